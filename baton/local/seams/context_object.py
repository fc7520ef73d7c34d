"""The context object (`$states.context`) as Step Functions fills it.

AWS writes every timestamp as ISO-8601 in UTC with milliseconds and a `Z`
(`2019-03-26T20:14:13.192Z`) and counts `Execution.RedriveCount` (0 until a redrive). moto
passes the execution's start as a Python datetime (so `StartTime` is not ISO-8601 text), writes
`EnteredTime` with microseconds and `+00:00`, and has no `RedriveCount`. `State.RetryCount` is
left as moto counts it, in the states that can retry (Task, Map, Parallel): executions recorded
on AWS have none in a Pass state's context, though the documentation lists it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import moto.stepfunctions.parser.asl.eval.states as states_module

from baton.local.seams.adaptation import Adaptation


def aws_timestamp(value: Any) -> str:
    """`2019-03-26T20:14:13.192Z`, from a datetime or ISO-8601 text (naive means UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


class AwsContext(dict[str, Any]):
    """The context object's data as AWS writes it: `Execution.StartTime` as ISO-8601 text and
    `RedriveCount`; each `State` entry moto sets (on entering a state, also in a Map iteration's
    or a Parallel branch's own context) with AWS's `EnteredTime`."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        for key, value in dict(data).items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "Execution" and isinstance(value, dict) and "RedriveCount" not in value:
            value = {**value, "StartTime": aws_timestamp(value["StartTime"]), "RedriveCount": 0}
        elif key == "State" and isinstance(value, dict):
            value = dict(value)
            if "EnteredTime" in value:
                value["EnteredTime"] = aws_timestamp(value["EnteredTime"])
        super().__setitem__(key, value)


def aws_states(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap `States.__init__` (every environment's, frames' too): its context is an AwsContext."""

    def init(states: Any, context: Any) -> None:
        original(states, AwsContext(context))

    return init


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "context-object",
            "ISO-8601 timestamps with milliseconds and RedriveCount, the fields AWS records",
            "tests/functional/test_offline_fidelity.py::test_the_context_object_is_filled_as_aws_fills_it",
            ((states_module.States, "__init__", aws_states),),
        )
    ]
