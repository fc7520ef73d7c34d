"""State machines run offline as AWS documents them (issue 12): AWS's own JSONata functions and
the context object. Each test runs a small state machine on the offline engine and checks the
outcome the Step Functions documentation gives."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from tests.conftest import ROOT, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a")
AWS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def machine(runtime, states: dict[str, Any], name: str) -> str:
    """A JSONata state machine of `states` (the first one starts), created offline."""
    definition = {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}
    return str(
        runtime.sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=runtime.role_arn
        )["stateMachineArn"]
    )


def run(
    runtime, states: dict[str, Any], data: Any = None, name: str = "fidelity"
) -> dict[str, Any]:
    """The state machine run once; DescribeExecution's answer, its output parsed."""
    arn = runtime.sfn.start_execution(
        stateMachineArn=machine(runtime, states, name),
        name=f"{name}-run",
        input=json.dumps(data or {}),
    )["executionArn"]
    described = runtime.wait(arn, timeout=30)
    described["output"] = json.loads(described.get("output") or "null")
    return described


def test_aws_jsonata_functions_have_aws_semantics(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    output = {
        "partition": "{% $partition([1, 2, 3, 4, 5], 2) %}",
        "range": "{% $range(0, 10, 5) %}",
        "down": "{% $range(10, 1, -4) %}",
        "hash": "{% $hash($states.input.text, 'SHA-256') %}",
        "md5": "{% $hash('abc', 'MD5') %}",
        "seeded": "{% $random(7) = $random(7) %}",
        "unit": "{% $random() >= 0 and $random() < 1 %}",
        "uuid": "{% $uuid() %}",
        "parsed": "{% $parse($states.input.json) %}",
    }
    text = 'quotes " and \\ and ünïcode'
    described = run(
        runtime,
        {"Functions": {"Type": "Pass", "Output": output, "End": True}},
        {"text": text, "json": '{"a": [1, "x"], "b": null}'},
    )
    assert described["status"] == "SUCCEEDED", described
    out = described["output"]
    assert out["partition"] == [[1, 2], [3, 4], [5]]
    assert out["range"] == [0, 5, 10] and out["down"] == [10, 6, 2]
    assert out["hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert out["md5"] == "900150983cd24fb0d6963f7d28e17f72"
    assert out["seeded"] is True and out["unit"] is True
    assert UUID4.match(out["uuid"])
    assert out["parsed"] == {"a": [1, "x"], "b": None}


@pytest.mark.parametrize(
    "expression",
    ["$randomSeeded(1)", "$eval('1 + 1')", "$hash('abc', 'SHA-3')", "$partition([1], 0)"],
)
def test_functions_aws_lacks_and_bad_arguments_fail_the_run(runtime_factory, expression):
    """AWS's JSONata has no `$randomSeeded` (moto's) and no `$eval` (use `$parse`)."""
    runtime = runtime_factory(REGISTRY, {})
    described = run(
        runtime, {"Call": {"Type": "Pass", "Output": f"{{% {expression} %}}", "End": True}}
    )
    assert described["status"] == "FAILED", described


CONTEXT = {
    "start": "{% $states.context.Execution.StartTime %}",
    "redrives": "{% $states.context.Execution.RedriveCount %}",
    "entered": "{% $states.context.State.EnteredTime %}",
    "state": "{% $states.context.State.Name %}",
    "machine": "{% $states.context.StateMachine.Name %}",
    "whole": "{% $states.context %}",
}
AWS_CONTEXT_KEYS = {  # as executions recorded on AWS show a Pass state's context object
    "Execution": {"Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount"},
    "StateMachine": {"Id", "Name"},
    "State": {"Name", "EnteredTime"},
}


def test_the_context_object_is_filled_as_aws_fills_it(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    described = run(
        runtime,
        {
            "First": {"Type": "Pass", "Output": CONTEXT, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "Items": "{% [10, 20] %}",
                "ItemProcessor": {
                    "StartAt": "Item",
                    "States": {
                        "Item": {
                            "Type": "Pass",
                            "Output": {
                                "entered": "{% $states.context.State.EnteredTime %}",
                                "start": "{% $states.context.Execution.StartTime %}",
                                "state": "{% $states.context.State %}",
                                "value": "{% $states.input %}",
                            },
                            "End": True,
                        }
                    },
                },
                "Output": "{% {'first': $states.input, 'items': $states.result} %}",
                "End": True,
            },
        },
        name="context",
    )
    assert described["status"] == "SUCCEEDED", described
    first, items = described["output"]["first"], described["output"]["items"]
    assert AWS_TIME.match(first["start"]) and AWS_TIME.match(first["entered"])
    assert first["redrives"] == 0  # and a Pass state has no RetryCount:
    assert {key: set(value) for key, value in first["whole"].items()} == AWS_CONTEXT_KEYS
    assert (first["state"], first["machine"]) == ("First", "context")
    assert [i["value"] for i in items] == [10, 20]
    for item in items:
        assert AWS_TIME.match(item["entered"]) and item["start"] == first["start"]
        assert set(item["state"]) == AWS_CONTEXT_KEYS["State"]


def test_the_retry_count_counts_the_states_retries(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a", fail_times=2)})
    runtime.deploy_agent(REGISTRY.get("a"))
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {
            "FunctionName": runtime.resources.function_arn("a"),
            "Payload": {"agent": "a", "data": {}},
        },
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3}],
        "Output": {"retries": "{% $states.context.State.RetryCount %}"},
        "End": True,
    }
    described = run(runtime, {"Flaky": task}, name="retries")
    assert described["status"] == "SUCCEEDED", described
    assert described["output"] == {"retries": 2} and calls.count("a") == 3


TRICKY = {
    "quotes": 'she said "hi"',
    "backslash": "C:\\path\\to",
    "newline": "one\ntwo\r\n\ttab",
    "unicode": "ünïcödé ✓ 🚀 \u2028",
    "dollars": "$states and ${x} and %}",
    "number": 1.5,
    "flag": False,
    "nothing": None,
    "list": ['"', "\\", []],
    "object": {'k"ey': 'va"lue'},
}


LITERAL = 'a "quoted" \\ literal with ${x} and \n'
KEEP = {"v": "{% $states.input %}", "s": "{% $states.input.quotes %}", "lit": LITERAL}
"""The whole input, a string variable holding `"`, and a literal string with escapes."""


def test_variables_of_every_json_type_survive_every_evaluation_path(runtime_factory, monkeypatch):
    """Each variable assigned, then read back by an expression returning it (string results,
    null, objects), by one returning nothing, and inside a Map iteration; no expression is
    evaluated twice, nor with its variables pasted into its text."""
    import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata

    runtime = runtime_factory(REGISTRY, {})
    seen: list[str] = []
    evaluate = moto_jsonata._eval_jsonata

    def counted(expression: str) -> Any:
        seen.append(str(getattr(expression, "expression", expression)))
        return evaluate(expression)

    monkeypatch.setattr(moto_jsonata, "_eval_jsonata", counted)
    back = {name: f"{{% $v.{name} %}}" for name in TRICKY}
    described = run(
        runtime,
        {
            "Keep": {"Type": "Pass", "Assign": KEEP, "Next": "Read"},
            "Read": {
                "Type": "Pass",
                "Output": {
                    **back,
                    "marker": "{% $v.quotes & '!' %}",
                    "s": "{% $s %}",
                    "lit": "{% $lit %}",
                },
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "Items": "{% [1] %}",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {"Type": "Pass", "Output": "{% $v.newline %}", "End": True}
                    },
                },
                "Output": "{% $merge([$states.input, {'inner': $states.result[0]}]) %}",
                "End": True,
            },
        },
        TRICKY,
        name="variables",
    )
    assert described["status"] == "SUCCEEDED", described
    read = {"marker": 'she said "hi"!', "s": TRICKY["quotes"], "lit": LITERAL}
    assert described["output"] == {**TRICKY, **read, "inner": TRICKY["newline"]}
    assert seen.count("$v.quotes & '!'") == 1
    assert not [e for e in seen if e.startswith(("$exists(", "$type("))]

    nothing = run(
        runtime,
        {
            "Keep": {"Type": "Pass", "Assign": KEEP, "Next": "Read"},
            "Read": {"Type": "Pass", "Output": "{% $v.missing %}", "End": True},
        },
        TRICKY,
        name="nothing",
    )
    assert nothing["status"] == "FAILED"
    assert nothing["error"] == "States.QueryEvaluationError"
    assert nothing["cause"].endswith(
        "The JSONata expression '$v.missing' specified for the field 'Output' returned nothing "
        "(undefined)."
    )


def branch(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Inner", "States": {"Inner": state}}


TIMED_OUT = {"Type": "Fail", "Error": "States.Timeout", "Cause": "took too long"}
THROWS = {"Type": "Pass", "Output": "{% 1 + 'a' %}", "End": True}
RUNTIME = {"Type": "Fail", "Error": "States.Runtime", "Cause": "broke"}
QUERY_CAUSE = (
    "The JSONata expression '1 + 'a'' specified for the field 'Output' threw an error during "
    'evaluation. T2002: The right side of the "+" operator must evaluate to a number'
)


@pytest.mark.parametrize(
    ("inner", "error"), [(TIMED_OUT, "States.Timeout"), (THROWS, "States.QueryEvaluationError")]
)
def test_an_error_keeps_its_name_out_of_a_parallel_branch_and_its_catch_sees_it(
    runtime_factory, inner, error
):
    runtime = runtime_factory(REGISTRY, {})
    states = {
        "Both": {
            "Type": "Parallel",
            "Branches": [branch(inner), branch({"Type": "Pass", "End": True})],
            "Catch": [
                {"ErrorEquals": [error], "Next": "Caught", "Output": "{% $states.errorOutput %}"}
            ],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    }
    described = run(runtime, states, name="parallel")
    assert described["status"] == "SUCCEEDED", described
    assert described["output"]["Error"] == error


@pytest.mark.parametrize(
    ("inner", "error"), [(TIMED_OUT, "States.Timeout"), (THROWS, "States.QueryEvaluationError")]
)
def test_an_error_keeps_its_name_out_of_a_map_iteration(runtime_factory, inner, error):
    runtime = runtime_factory(REGISTRY, {})
    states = {
        "Each": {"Type": "Map", "Items": "{% [1] %}", "ItemProcessor": branch(inner), "End": True}
    }
    described = run(runtime, states, name="map")
    assert (described["status"], described["error"]) == ("FAILED", error)
    assert described["cause"].count("An error occurred while executing the state") <= 1
    if error == "States.QueryEvaluationError":
        assert described["cause"].endswith(QUERY_CAUSE)


def test_a_throwing_expression_is_a_query_evaluation_error_with_jsonatas_wording(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    described = run(runtime, {"Add": THROWS}, name="throws")
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert described["cause"] == (
        "An error occurred while executing the state 'Add' (entered at the event id #2). "
        + QUERY_CAUSE
    )


def test_states_all_neither_retries_nor_catches_states_runtime(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    states = {
        "Both": {
            "Type": "Parallel",
            "Branches": [branch(RUNTIME)],
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    }
    described = run(runtime, states, name="runtime")
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    history = runtime.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert sum(e["type"] == "ParallelStateStarted" for e in history) == 1  # not retried


def invoke_task(function: str, then: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": function, "Payload": "{% $states.input %}"},
        "Output": "{% $states.result %}",
    }
    if then:
        task["Catch"] = [
            {"ErrorEquals": ["States.ALL"], "Next": then, "Output": "{% $states.errorOutput %}"}
        ]
    task["End" if then is None else "Next"] = True if then is None else "Done"
    return task


def test_the_lambda_invoke_result_is_lambdas_with_a_request_id_per_invocation(runtime_factory):
    from baton_agent import agent

    @agent
    def who(data, context):
        return {"request": context_of.pop()}

    context_of: list[str] = []
    registry = make_registry("a", a={"pool": {"warm": 1}})

    def seen(event, lambda_context):
        context_of.append(lambda_context.aws_request_id)
        return who(event, lambda_context)

    runtime = runtime_factory(registry, {"a": seen})
    runtime.deploy_agent(registry.get("a"))
    arn = runtime.resources.function_arn("a")
    first = run(
        runtime,
        {"Call": {**invoke_task(arn), "End": True}},
        {"agent": "a", "data": {}},
        name="invoke",
    )
    live = run(
        runtime,
        {"Call": {**invoke_task(f"{arn}:live"), "End": True}},
        {"agent": "a", "data": {}},
        name="alias",
    )
    for described in (first, live):
        assert described["status"] == "SUCCEEDED", described
    result = first["output"]
    assert set(result) == {
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    }
    assert (result["ExecutedVersion"], result["StatusCode"]) == ("$LATEST", 200)
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    request = result["SdkResponseMetadata"]["RequestId"]
    assert UUID4.match(request) and result["Payload"]["data"] == {"request": request}
    assert live["output"]["ExecutedVersion"] == "1"
    assert live["output"]["SdkResponseMetadata"]["RequestId"] != request


def test_a_function_error_names_its_request_and_shows_only_the_functions_frames(
    runtime_factory, shipped_registry
):
    runtime = runtime_factory(shipped_registry)
    runtime.deploy_agent(shipped_registry.get("check-price"))
    arn = runtime.resources.function_arn("check-price")
    states = {"Call": invoke_task(arn, then="Done"), "Done": {"Type": "Pass", "End": True}}
    described = run(runtime, states, {"agent": "check-price", "data": {}}, name="raises")
    assert described["status"] == "SUCCEEDED", described
    assert described["output"]["Error"] == "AgentInputError"
    payload = json.loads(described["output"]["Cause"])
    assert UUID4.match(payload["requestId"])
    assert payload["errorMessage"].startswith("the workflow data lacks targetUrl")
    frames = "".join(payload["stackTrace"])
    assert 'File "/var/task/baton_agent/runtime.py"' in frames
    assert 'File "/var/task/agents/check_price/handler.py"' in frames
    assert "baton/local" not in frames and str(ROOT) not in frames


@pytest.mark.parametrize(
    ("state", "field"),
    [
        ({"Type": "Pass", "Assign": {"x": "{% 1 + 'a' %}"}, "End": True}, "Assign/x"),
        ({"Type": "Pass", "Output": {"result": "{% 1 + 'a' %}"}, "End": True}, "Output/result"),
        ({"Type": "Pass", "Output": {"a": {"b": ["{% 1 + 'a' %}"]}}, "End": True}, "Output/a/b"),
        (
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% 1 + 'a' %}", "Payload": {}},
                "End": True,
            },
            "Arguments/FunctionName",
        ),
        (
            {
                "Type": "Choice",
                "Choices": [{"Condition": "{% 1 + 'a' > 0 %}", "Next": "Done"}],
                "Default": "Done",
            },
            "Condition",
        ),
        ({"Type": "Wait", "Seconds": "{% 1 + 'a' %}", "Next": "Done"}, "Seconds"),
    ],
)
def test_the_cause_names_the_field_of_the_expression(runtime_factory, state, field):
    """The field as AWS names it: the definition field, and inside a template the keys down to
    the expression ('Output/result', 'Arguments/FunctionName', as executions recorded on AWS
    show); also the `location` of the EvaluationFailed event."""
    runtime = runtime_factory(REGISTRY, {})
    described = run(runtime, {"Field": state, "Done": {"Type": "Pass", "End": True}}, name="field")
    assert described["error"] == "States.QueryEvaluationError", described
    assert f"specified for the field '{field}' threw an error" in described["cause"]
    [failure] = evaluation_failures(runtime, described)  # one event, as AWS's history has
    assert (failure["location"], failure["cause"]) == (field, described["cause"])


def evaluation_failures(runtime, described: dict[str, Any]) -> list[dict[str, Any]]:
    """The details of the run's EvaluationFailed events."""
    events = runtime.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    return [e["evaluationFailedEventDetails"] for e in events if e["type"] == "EvaluationFailed"]


WAIT_UNTIL = {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True}
EACH = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
PASS_ON = {"Type": "Pass", "Output": "{% $states.input.items %}", "Next": "M"}
CANNOT_PARSE = "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
UNEXPECTED = "specified for the field 'Items' returned an unexpected result type. Expected 'array'"


@pytest.mark.parametrize(
    ("states", "data", "location", "cause"),
    [  # the first ten as executions recorded on AWS end
        *(
            (
                {"W": WAIT_UNTIL},
                {"t": bad},
                "Timestamp",
                f"{CANNOT_PARSE}format string: {bad}",
            )
            for bad in (
                "2016-12-05 21:29:29Z",
                "2016-12-05T21:29:29",
                "2016-13-05T21:29:29Z",
                "2016-12-05T25:29:29Z",
                "05-12-2016T21:29:29Z",
            )
        ),
        (
            {"M": {"Type": "Map", "Items": "{% 1 %}", "ItemProcessor": EACH, "End": True}},
            {},
            "Items",
            f"The JSONata expression '1' {UNEXPECTED}, but was 'number' for value: 1",
        ),
        (
            {"M": {"Type": "Map", "Items": "{% 'a\"b' %}", "ItemProcessor": EACH, "End": True}},
            {},
            "Items",
            f"The JSONata expression ''a\"b'' {UNEXPECTED}, but was 'string' for value: \"a\\\"b\"",
        ),
        (
            {
                "M": {
                    "Type": "Map",
                    "Items": "{% $f := function($x){$x} %}",
                    "ItemProcessor": EACH,
                    "End": True,
                }
            },
            {},
            "Items",
            "The JSONata expression '$f := function($x){$x}' specified for the field 'Items'"
            " returned an unsupported result type.",
        ),
        (
            {"S": PASS_ON, "M": {"Type": "Map", "ItemProcessor": EACH, "End": True}},
            {"items": {"foo": "bar"}},
            None,
            'Map state input must be an array but was: {"foo":"bar"}',
        ),
        (
            {"S": PASS_ON, "M": {"Type": "Map", "ItemProcessor": EACH, "End": True}},
            {"items": 1.0},
            None,
            "Map state input must be an array but was: 1",
        ),
        # the documentation's rule for Seconds, in the wording AWS records for SecondsPath
        (
            {"W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}},
            {"s": 1.5},
            "Seconds",
            "The Seconds field cannot be parsed as a long value: 1.5",
        ),
        (
            {"W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}},
            {"s": -1},
            "Seconds",
            "The Seconds field references a negative value: -1",
        ),
    ],
)
def test_unusable_values_fail_as_aws_fails_them(runtime_factory, states, data, location, cause):
    runtime = runtime_factory(REGISTRY, {})
    described = run(runtime, states, data, name="unusable")
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    state = list(states)[-1]
    entered = "#2" if len(states) == 1 else "#4"
    prefix = f"An error occurred while executing the state '{state}' (entered at the event id "
    assert described["cause"] == f"{prefix}{entered}). {cause}"
    [failure] = evaluation_failures(runtime, described)
    assert (failure.get("location"), failure["cause"]) == (location, described["cause"])


def test_good_wait_values_still_wait(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    for n, value in enumerate(("2016-03-14T01:59:00Z", "2016-03-05T21:29:29.243167252Z")):
        described = run(runtime, {"W": WAIT_UNTIL}, {"t": value}, name=f"past{n}")
        assert described["status"] == "SUCCEEDED", described
    seconds = {"W": {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}}
    for n, value in enumerate((0, 1.0)):
        described = run(runtime, seconds, {"s": value}, name=f"seconds{n}")
        assert described["status"] == "SUCCEEDED", described


def test_a_string_output_is_described_as_json(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    text = {"P": {"Type": "Pass", "Output": "{% 'say ' & $states.input.word %}", "End": True}}
    started = runtime.sfn.start_execution(
        stateMachineArn=machine(runtime, text, "text"), input='{"word": "\\"hi\\""}'
    )
    described = runtime.wait(started["executionArn"], timeout=30)
    assert described["output"] == json.dumps('say "hi"')


def test_a_parallel_state_logs_the_events_aws_logs(runtime_factory):
    """As AWS's recorded history of a Parallel with two Pass branches: no ParallelStateSucceeded."""
    runtime = runtime_factory(REGISTRY, {})
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    described = run(
        runtime,
        {"Both": {"Type": "Parallel", "Branches": [branch, branch], "End": True}},
        name="parallel",
    )
    assert described["status"] == "SUCCEEDED", described
    events = runtime.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    kinds = [event["type"] for event in events]
    assert kinds[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert sorted(kinds[3:7]) == ["PassStateEntered"] * 2 + ["PassStateExited"] * 2
    assert kinds[7:] == ["ParallelStateExited", "ExecutionSucceeded"]


def test_a_run_started_without_a_name_gets_one(runtime_factory):
    runtime = runtime_factory(REGISTRY, {})
    who = {"P": {"Type": "Pass", "Output": "{% $states.context.Execution %}", "End": True}}
    unnamed = machine(runtime, who, "unnamed")
    runs = [runtime.sfn.start_execution(stateMachineArn=unnamed, input="{}") for _ in range(2)]
    arns = [run["executionArn"] for run in runs]
    assert arns[0] != arns[1]  # two starts, two runs
    for arn in arns:
        name = arn.rsplit(":", 1)[1]
        assert UUID4.match(name), arn
        execution = json.loads(runtime.wait(arn, timeout=30)["output"])
        assert (execution["Name"], execution["Id"]) == (name, arn)


def test_a_missing_function_is_lambdas_resource_not_found(runtime_factory):
    """As AWS records a lambda:invoke of a function that does not exist: the Task fails with
    Lambda.ResourceNotFoundException, Lambda's message and the service's details in the cause,
    and a Catch of that name takes it."""
    runtime = runtime_factory(REGISTRY, {})
    missing = "arn:aws:lambda:us-east-1:123456789012:function:no_such_function"
    task = {**invoke_task(missing), "End": True}
    described = run(runtime, {"Call": task}, {}, name="missing")
    assert (described["status"], described["error"]) == (
        "FAILED",
        "Lambda.ResourceNotFoundException",
    )
    assert re.fullmatch(
        rf"Function not found: {re.escape(missing)}:\$LATEST \(Service: AWSLambda; Status Code:"
        r" 404; Error Code: ResourceNotFoundException; Request ID: [^;]+; Proxy: null\)",
        described["cause"],
    ), described["cause"]
    events = runtime.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "ExecutionFailed",
    ]
    caught = {
        **invoke_task(missing),
        "Catch": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "Next": "Handled"}],
        "End": True,
    }
    handled = {"Call": caught, "Handled": {"Type": "Pass", "Output": "handled", "End": True}}
    assert run(runtime, handled, {}, name="caught")["output"] == "handled"


def test_states_all_catches_a_results_data_limit_as_aws_was_recorded_doing(runtime_factory):
    """A Lambda result over 256 KB fails the Task with States.DataLimitExceeded, and a
    States.ALL Catch takes it, as executions recorded on AWS show (the documentation says
    States.ALL does not)."""
    registry = make_registry("a")
    runtime = runtime_factory(registry, {"a": lambda event, context: "x" * 300_000})
    runtime.deploy_agent(registry.get("a"))
    task = invoke_task(runtime.resources.function_arn("a"), then="Handled")
    described = run(
        runtime,
        {
            "Call": task,
            "Done": {"Type": "Pass", "End": True},
            "Handled": {"Type": "Pass", "End": True},
        },
        {"agent": "a"},
        name="limit",
    )
    assert described["status"] == "SUCCEEDED", described
    assert described["output"] == {
        "Error": "States.DataLimitExceeded",
        "Cause": "The state/task 'lambda' returned a result with a size exceeding the maximum"
        " number of bytes service limit.",
    }


def test_now_and_millis_are_the_time_of_each_evaluation(runtime_factory):
    """$now() and $millis() give the time of the evaluation they are in (the same at every call
    within it), in every state of every run: jsonata-python read the time its thread's last
    made program took at its last evaluation, so an expression parsed in an earlier run gave a
    time long past (a skipped step's handoff sorted before the steps run before it)."""
    import threading
    import time
    from datetime import datetime

    from baton.local.seams import evaluate

    first = evaluate("$millis()")
    evaluate("'another program'")  # made after it: its thread's latest
    time.sleep(0.05)
    assert evaluate("$millis()") - first >= 50
    now, again, millis = evaluate("[$now(), $now(), $millis()]")
    assert now == again and AWS_TIME.match(now)
    assert datetime.fromisoformat(now).timestamp() * 1000 == millis
    elsewhere: list[int] = []
    thread = threading.Thread(target=lambda: elsewhere.append(evaluate("$millis()")))
    time.sleep(0.05)
    thread.start()
    thread.join()
    assert elsewhere[0] - millis >= 50

    runtime = runtime_factory(REGISTRY)
    states = {"Stamp": {"Type": "Pass", "Output": "{% {'at': $millis()} %}", "End": True}}
    before = int(time.time() * 1000)
    stamped = run(runtime, states, name="stamp-1")["output"]["at"]
    time.sleep(0.05)
    restamped = run(runtime, states, name="stamp-2")["output"]["at"]
    assert before <= stamped and restamped - stamped >= 50
