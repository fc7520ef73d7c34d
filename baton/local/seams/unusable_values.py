"""Values a JSONata state evaluates but cannot use, failed as AWS fails them: the state ends
with States.QueryEvaluationError, AWS's cause and the field as its `location` (executions
recorded on AWS). moto ended some as States.Runtime with its own wording or a Python error.

- A Map's `Items` that is not an array: "The JSONata expression '1' specified for the field
  'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 1"
  (moto left "specified" out of the unsupported-type wording and wrote strings unescaped).
- A Map without `Items` whose input is not an array: "Map state input must be an array but was:
  1" (moto wrote the Python type, `<class 'int'>`).
- A Wait's JSONata `Timestamp` that is not an ISO-8601 date-time in UTC: "The Timestamp field
  cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"
  (moto: States.Runtime, its JSONPath wording; a number raised a Python TypeError).
- A Wait's JSONata `Seconds` that is not a whole number from 0: AWS's documentation refuses it;
  its wording is unrecorded, so it follows AWS's recorded SecondsPath wording, as the Timestamp
  one follows TimestampPath's: "The Seconds field cannot be parsed as a long value: 1.5",
  "The Seconds field references a negative value: -1" (moto truncated 1.5, waited no time for
  -1, and failed 'x' with a Python ValueError).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.items.items import ItemsJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import (
    SecondsJSONata,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

from baton.local.seams.adaptation import Adaptation
from baton.local.seams.error_names import evaluation_failure, expression_cause, logged

MOTO_MAP_INPUT = "Map state input must be an array but was: <class"
FIDELITY = "tests/functional/test_offline_fidelity.py"


def js_json(value: Any) -> str:
    """`value` as JavaScript's JSON.stringify writes it (a whole float as an integer)."""

    def plain(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {key: plain(member) for key, member in item.items()}
        if isinstance(item, list):
            return [plain(member) for member in item]
        return item

    return json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False)


def jsonata_type(value: Any) -> str | None:
    """JSONata's name of a JSON value's type; None for what JSON cannot hold (a function)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names = {str: "string", list: "array", dict: "object"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), None)


def _items_must_be_an_array(_original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """ItemsJSONata._eval_body: a Map's Items that is not an array fails as AWS fails it."""

    def evaluate(items: Any, env: Any) -> None:
        items.string_jsonata.eval(env=env)
        value = env.stack[-1]
        if isinstance(value, list):
            return
        kind = jsonata_type(value)
        outcome = (
            "returned an unsupported result type."
            if kind is None
            else "returned an unexpected result type. "
            f"Expected 'array', but was '{kind}' for value: {js_json(value)}"
        )
        expression = items.string_jsonata.literal_value
        cause = expression_cause(expression, outcome, "Items")
        raise logged(env, evaluation_failure(env, cause, "Items"))

    return evaluate


def _map_input_as_json(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """StateMap._eval_execution: a JSONata Map without Items takes its input as its items; when
    that is not an array, the cause shows the input as JSON."""

    def execute(state: Any, env: Any) -> None:
        takes_input = state.items is None and state.items_path is None
        given = env.states.get_input() if takes_input else None
        try:
            original(state, env)
        except FailureEventException as failure:
            details: dict[str, Any] = dict(failure.failure_event.event_details or {})
            evaluation = details.get("evaluationFailedEventDetails") or {}
            if takes_input and str(evaluation.get("cause", "")).startswith(MOTO_MAP_INPUT):
                evaluation["cause"] = f"Map state input must be an array but was: {js_json(given)}"
                raise logged(env, failure) from None
            raise

    return execute


def _timestamp_failure(original: Callable[..., Any]) -> Callable[..., Any]:
    """Timestamp._create_failure_event: for a JSONata Timestamp, AWS's evaluation failure."""

    def failure(wait: Any, env: Any, timestamp: Any) -> Any:
        if not isinstance(wait.string, StringJSONata):
            return original(wait, env, timestamp)  # TimestampPath: moto words it as AWS does
        text = timestamp if isinstance(timestamp, str) else js_json(timestamp)
        cause = (
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {text}"
        )
        return logged(env, evaluation_failure(env, cause, "Timestamp")).failure_event

    return failure


def _timestamp_text_only(original: Callable[[Any], Any]) -> Any:
    """Timestamp._from_timestamp_string: a value that is not text is no timestamp (moto's
    pattern match raised a Python TypeError on a number)."""

    def parse(timestamp: Any) -> Any:
        return original(timestamp) if isinstance(timestamp, str) else None

    return staticmethod(parse)


def _whole_seconds(_original: Callable[[Any, Any], int]) -> Callable[[Any, Any], int]:
    """SecondsJSONata._get_wait_seconds: a whole number of seconds from 0, or the state fails."""

    def seconds(wait: Any, env: Any) -> int:
        wait.string_jsonata.eval(env=env)
        value = env.stack.pop()
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or not float(number).is_integer():
            cause = f"The Seconds field cannot be parsed as a long value: {js_json(value)}"
        elif number < 0:
            cause = f"The Seconds field references a negative value: {js_json(value)}"
        else:
            return int(number)
        raise logged(env, evaluation_failure(env, cause, "Seconds"))

    return seconds


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "map-items-must-be-arrays",
            "a Map's Items that is not an array fails with States.QueryEvaluationError and"
            " AWS's cause (the value as JSON, 'unsupported' for a function)",
            f"{FIDELITY}::test_unusable_values_fail_as_aws_fails_them",
            ((ItemsJSONata, "_eval_body", _items_must_be_an_array),),
        ),
        Adaptation(
            "map-input-as-json",
            "a JSONata Map whose input is not an array names the input as JSON in its cause",
            f"{FIDELITY}::test_unusable_values_fail_as_aws_fails_them",
            ((StateMap, "_eval_execution", _map_input_as_json),),
        ),
        Adaptation(
            "wait-timestamps-as-aws",
            "a JSONata Wait Timestamp that is no ISO-8601 date-time in UTC fails with"
            " States.QueryEvaluationError and AWS's cause",
            f"{FIDELITY}::test_unusable_values_fail_as_aws_fails_them",
            (
                (Timestamp, "_create_failure_event", _timestamp_failure),
                (Timestamp, "_from_timestamp_string", _timestamp_text_only),
            ),
        ),
        Adaptation(
            "wait-seconds-whole",
            "a JSONata Wait Seconds that is not a whole number from 0 fails the state, as the"
            " documentation says (States.QueryEvaluationError)",
            f"{FIDELITY}::test_unusable_values_fail_as_aws_fails_them",
            ((SecondsJSONata, "_get_wait_seconds", _whole_seconds),),
        ),
    ]
