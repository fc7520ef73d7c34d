"""Errors offline as Step Functions reports them.

- An error keeps its name when it leaves a Map iteration or a Parallel branch, and a Fail state
  may name a `States.*` error: AWS reports `States.Timeout`, `States.TaskFailed`,
  `States.QueryEvaluationError`... as they are. moto builds those names as custom error names,
  which refuse the `States.` prefix, so the run ended with `States.Runtime` ("Custom Error
  Names MUST NOT begin with the prefix 'States.'") and no Catch of the Parallel saw it.
- `States.ALL` matches every error but `States.Runtime`, which no Retry or Catch takes unless
  it names it (the Amazon States Language's rule; moto's `States.ALL` matched it too). It does
  match a Task's `States.DataLimitExceeded` (a result over the size limit): the documentation
  says otherwise, but executions recorded on AWS show a `States.ALL` Catch taking it.
- A Runtime or QueryEvaluationError cause names the state it happened in once (moto said it
  again, as state 'None', for an error passed on from a Map iteration).
- An evaluation failure's cause names the field of the expression, as AWS's does ("... specified
  for the field 'Output' ..."); moto's named none.
- A JSONata expression that throws fails its state with `States.QueryEvaluationError`, the
  JSONata error code and message in the cause; moto let the exception end the run as
  `States.Runtime` with jsonata-python's bare message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker as map_iterations
import moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl as branches
import moto.stepfunctions.parser.asl.component.state.fail.state_fail as fail_state
from jsonata.jexception import JException
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

from baton.local.seams.adaptation import Adaptation, to

STATES_PREFIX = "States."
NOT_IN_STATES_ALL = frozenset({"States.Runtime"})
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


class _ReportedName(ErrorName):
    """A `States.*` name the ASL grammar does not list, kept as it was reported."""


def reported_error_name(error_name: str | None) -> ErrorName | None:
    """The name an error goes on with: a `States.*` name as the States error it is, any other
    as a custom name (what moto's CustomErrorName is replaced with where an error is passed on)."""
    if error_name is None or not error_name.startswith(STATES_PREFIX):
        return CustomErrorName(error_name)
    try:
        return StatesErrorName.from_name(error_name)
    except ValueError:
        return _ReportedName(error_name)


def states_all_as_aws(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap ErrorEqualsDecl._eval_body: `States.ALL` does not match the two errors it never
    matches in AWS."""

    def matches(declaration: Any, env: Any) -> None:
        error = env.stack[-1] if env.stack else None
        name = getattr(error, "error_name", error)
        listed = {getattr(e, "error_name", None) for e in declaration.error_names}
        if name in NOT_IN_STATES_ALL and listed == {"States.ALL"}:
            env.stack.pop()
            env.stack.append(False)
            return
        original(declaration, env)

    return matches


_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")


def js_message(error: JException) -> str:
    """The error's message as the reference JSONata (JavaScript, which AWS runs) words it: a
    `{{value}}` of its template is the value as JSON (`the "+" operator`), a `{{{value}}}` the
    value as text. jsonata-python pastes both as text."""
    template = JException.error_codes.get(getattr(error, "error", ""))
    if template is None:
        return str(error)
    values = iter((error.current, error.expected, error.extra))

    def filled(match: re.Match[str]) -> str:
        value = next(values, None)
        if match.group(1):
            return str(value)
        return json.dumps(value, ensure_ascii=False, default=str)

    return _PLACEHOLDER.sub(filled, template)


FIELD: ContextVar[str | None] = ContextVar("baton_jsonata_field", default=None)
"""The definition field whose expression is being evaluated (for the cause of its failure)."""
_FIELD_OF_RULE = {"Choices": "Condition"}  # a Choice rule's expression is its Condition


_NOT_FIELDS = ("Json_", "Payload_", "State_", "States_", "Program_", "Branches_", "Iterator_")
"""Rules that hold values or states, not a field of their own."""


def _field_rule(node: Any) -> str | None:
    """`Timeout_seconds` for a Timeout_seconds_declContext or one of its alternatives
    (`Timeout_seconds_jsonataContext` derives from it)."""
    for cls in type(node).__mro__:
        rule = cls.__name__
        if rule.endswith("_declContext") and not rule.startswith(_NOT_FIELDS):
            return rule.removesuffix("_declContext")
    return None


def _key_of(node: Any) -> str | None:
    """The key of an object member in an Output, Arguments or Assign template, decoded."""
    if type(node).__name__ not in _KEYED:
        return None
    text = node.getChild(0).getText()
    try:
        return str(json.loads(text))
    except ValueError:
        return str(text).strip('"')


_KEYED = ("Jsonata_template_bindingContext", "Assign_template_binding_valueContext")
"""Rules of a template's object member: their first child is the member's key."""


def field_of(parser_rule_context: Any) -> str | None:
    """The field a JSONata string stands in, as AWS names it in a cause and an evaluation
    failure's `location`: the definition field (`Timeout_seconds` → `TimeoutSeconds`) and,
    inside a template, the keys down to the string (`Output/result`, `Arguments/FunctionName`,
    `Assign/result`). Inside an array the path stops at the array's key (AWS's naming of array
    positions is unrecorded). None when it stands in no field."""
    node, keys = parser_rule_context, list[str]()
    while node is not None:
        rule = _field_rule(node)
        if rule is not None:
            name = "".join(part.title() for part in rule.split("_"))
            return "/".join([_FIELD_OF_RULE.get(name, name), *reversed(keys)])
        if type(node).__name__.endswith("_arrayContext"):
            keys.clear()
        key = _key_of(node)
        if key is not None:
            keys.append(key)
        node = getattr(node, "parentCtx", None)
    return None


def fields_named(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap Preprocessor.visitString_jsonata: each JSONata string knows its field."""

    def visit(preprocessor: Any, ctx: Any) -> Any:
        string = original(preprocessor, ctx)
        string.field = field_of(ctx)
        return string

    return visit


def expression_cause(expression: str, outcome: str, field: str | None = None) -> str:
    """`The JSONata expression 'x' specified for the field 'Output' <outcome>`, as AWS words it
    (the field being evaluated, unless named)."""
    field = field or FIELD.get()
    where = f" specified for the field '{field}'" if field else ""
    return f"The JSONata expression '{expression}'{where} {outcome}"


def evaluation_failure(env: Any, cause: str, location: str | None = None) -> FailureEventException:
    """A States.QueryEvaluationError of the state, as its EvaluationFailed event reports it
    (`location`: the field, as AWS names it). Made before the event is logged: it names the
    state's own entered event."""
    details = EvaluationFailedEventDetails(error=QUERY_EVALUATION_ERROR, cause=cause)
    if location:
        details["location"] = location
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError),
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),  # type: ignore[typeddict-item]
        )
    )


def logged_once(original: Callable[..., int]) -> Callable[..., int]:
    """EventManager.add_event, which logs an evaluation failure once: moto's Task, Map and
    Parallel states log again, undecorated, a failure that was logged where it happened (AWS's
    history has it once, its cause naming the state)."""

    def add_event(manager: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        details = args[0] if args else kwargs.get("event_details")
        failure = (details or {}).get("evaluationFailedEventDetails")
        if event_type == HistoryEventType.EvaluationFailed and failure:
            with manager._mutex:
                events = manager._history_event_list
                last = events[-1] if events else {}
            logged = last.get("evaluationFailedEventDetails") or {}
            cause = str(failure.get("cause", ""))
            if last.get("type") == event_type and str(logged.get("cause", "")).endswith(cause):
                return int(last["id"])
        return original(manager, context, event_type, *args, **kwargs)

    return add_event


def logged(env: Any, failure: FailureEventException) -> FailureEventException:
    """The failure, its EvaluationFailed event added to the history as AWS's: the cause names
    the state, and the event names it too."""
    details = failure.get_evaluation_failed_event_details()
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),  # type: ignore[typeddict-item]
    )
    return failure


def query_evaluation_errors(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap StringJSONata._eval_body: an expression that throws fails the state with
    States.QueryEvaluationError, as AWS reports it."""

    def evaluated(string: Any, env: Any) -> None:
        token = FIELD.set(getattr(string, "field", None))
        try:
            original(string, env)
        except JException as error:
            code = getattr(error, "error", "")
            outcome = f"threw an error during evaluation. {code}: {js_message(error)}"
            cause = expression_cause(string.expression, outcome)
            raise logged(env, evaluation_failure(env, cause, FIELD.get())) from None
        finally:
            FIELD.reset(token)

    return evaluated


DECORATION = "An error occurred while executing the state '"


def decorated_once(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap FailureEventException.get_execution_failed_event_details: a cause that already says
    which state it happened in (an error passed on from a Map iteration) is not said again."""

    def details(exception: Any) -> Any:
        result = original(exception)
        pair = exception.extract_error_cause_pair()
        cause = pair[1] if pair else None
        if result and isinstance(cause, str) and cause.startswith(DECORATION):
            result["cause"] = cause
        return result

    return details


def nothing_returned(env: Any, expression: str) -> FailureEventException:
    """The failure of an expression that returned nothing (undefined), worded as AWS words it;
    moto's validation logs its history event."""
    cause = expression_cause(expression, "returned nothing (undefined).")
    return evaluation_failure(env, cause, FIELD.get())


PASSING_ERRORS_ON = (branches, map_iterations, fail_state)
"""Where moto names an error it passes on (a branch's, an iteration's, a Fail state's)."""
FIDELITY = "tests/functional/test_offline_fidelity.py"


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "error-names-passed-on",
            "a States.* error keeps its name out of a Map iteration, a Parallel branch or a Fail"
            " state, and the Map's or Parallel's Retry and Catch see it",
            f"{FIDELITY}::test_an_error_keeps_its_name_out_of_a_parallel_branch_and_its_catch_sees_it",
            tuple(
                (module, "CustomErrorName", to(reported_error_name)) for module in PASSING_ERRORS_ON
            ),
        ),
        Adaptation(
            "states-all-as-aws",
            "States.ALL neither retries nor catches States.Runtime",
            f"{FIDELITY}::test_states_all_neither_retries_nor_catches_states_runtime",
            ((ErrorEqualsDecl, "_eval_body", states_all_as_aws),),
        ),
        Adaptation(
            "query-evaluation-errors",
            "a throwing expression fails its state with States.QueryEvaluationError, JSONata's"
            " code and JavaScript wording in the cause",
            f"{FIDELITY}::test_a_throwing_expression_is_a_query_evaluation_error_with_jsonatas_wording",
            ((StringJSONata, "_eval_body", query_evaluation_errors),),
        ),
        Adaptation(
            "causes-name-the-field",
            "an evaluation failure's cause names the field of its expression (Output, Arguments,"
            " Condition...)",
            f"{FIDELITY}::test_the_cause_names_the_field_of_the_expression",
            ((Preprocessor, "visitString_jsonata", fields_named),),
        ),
        Adaptation(
            "evaluation-failures-logged-once",
            "an evaluation failure is one EvaluationFailed event in the history, in every kind"
            " of state",
            f"{FIDELITY}::test_the_cause_names_the_field_of_the_expression",
            ((EventManager, "add_event", logged_once),),
        ),
        Adaptation(
            "causes-decorated-once",
            "a cause passed on from a Map iteration names its state once",
            f"{FIDELITY}::test_an_error_keeps_its_name_out_of_a_map_iteration",
            ((FailureEventException, "get_execution_failed_event_details", decorated_once),),
        ),
    ]
