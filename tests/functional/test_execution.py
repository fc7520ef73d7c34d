"""Offline executions on moto: order, data, parallelism, conditions, retries, fallbacks, timeouts."""

from __future__ import annotations

import json

import pytest

from baton_agent import AgentInputError, AgentResult, agent
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo
from tests.hostile import hostile_workflow

NAMES = ("a", "b", "c", "d", "e", "alt")


@pytest.fixture
def calls() -> Calls:
    return Calls()


def registry(**overrides):
    return make_registry(*NAMES, **overrides)


def run(runtime_factory, definition, handlers, reg=None, data=None, **options):
    reg = reg or registry()
    runtime = runtime_factory(reg, handlers, **options)
    return runtime.run(compiled(definition, reg), data or {})


def test_sequential_order_and_data_accumulation(runtime_factory, calls):
    handlers = {n: echo(calls, n) for n in "abc"}
    definition = {"id": "seq", "name": "Seq", "agents": ["a", "b", "c"], "initialData": {"seed": 1}}
    record = run(runtime_factory, definition, handlers, data={"extra": True})
    assert record.status == "completed"
    assert calls.agents() == ["a", "b", "c"]
    assert calls.of("a")[0]["data"] == {"seed": 1, "extra": True}
    assert calls.of("b")[0]["data"] == {"seed": 1, "extra": True, "a": 1, "trail": ["a"]}
    assert calls.of("c")[0]["data"]["trail"] == ["a", "b"]
    assert record.output == {
        "seed": 1,
        "extra": True,
        "a": 1,
        "b": 1,
        "c": 1,
        "trail": ["a", "b", "c"],
    }
    assert [h.agent for h in record.handoffs] == ["a", "b", "c"]
    assert [(h.from_agent, h.to_agent) for h in record.handoffs] == [
        ("a", "b"),
        ("b", "c"),
        ("c", None),
    ]
    assert [h.data for h in record.handoffs][1] == {"b": 1, "trail": ["a", "b"]}
    assert all(h.attempt == 1 and h.validated_by == ["accuracy-check"] for h in record.handoffs)
    assert record.metrics.successful_handoffs == 3
    assert record.metrics.failed_handoffs == 0
    assert record.error is None


def test_parallel_group_members_overlap_in_time(runtime_factory, calls):
    handlers = {n: echo(calls, n, sleep=0.3) for n in "abc"} | {"d": echo(calls, "d")}
    definition = {
        "id": "par",
        "name": "Par",
        "agents": ["a", "b", "c", "d"],
        "config": {"parallelGroups": [["a", "b", "c"]]},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    members = [calls.of(n)[0] for n in "abc"]
    latest_start = max(m["started"] for m in members)
    earliest_end = min(m["ended"] for m in members)
    assert latest_start < earliest_end, "the three 0.3 s agents did not all run at the same time"
    assert calls.agents()[-1] == "d"
    assert calls.of("d")[0]["data"]["a"] == calls.of("d")[0]["data"]["b"] == 1
    assert set(record.output) >= {"a", "b", "c", "d"}


def test_parallel_outputs_merge_in_group_order(runtime_factory, calls):
    handlers = {"a": echo(calls, "a", sleep=0.2), "b": echo(calls, "b"), "c": echo(calls, "c")}
    definition = {
        "id": "m",
        "name": "M",
        "agents": ["a", "b", "c"],
        "config": {"parallelGroups": [["a", "b"]]},
    }
    record = run(runtime_factory, definition, handlers)
    # a finishes last but is first in the group: b's "trail" wins the merge, as group order says
    assert calls.agents()[:2] == ["b", "a"]
    assert calls.of("c")[0]["data"]["trail"] == ["b"]
    assert record.status == "completed"


PRICE = {
    "id": "price",
    "name": "Price",
    "agents": ["a", "b", "c", "d"],
    "conditions": [
        {"after": "a", "when": "currentPrice != lastKnownPrice", "then": ["b"], "else": ["c"]}
    ],
}


@pytest.mark.parametrize(("current", "branch", "skipped"), [(84.99, "b", "c"), (99.99, "c", "b")])
def test_price_change_condition_both_branches(runtime_factory, calls, current, branch, skipped):
    handlers = {n: echo(calls, n) for n in "bcd"}

    from baton_agent import AgentResult, agent

    @agent
    def check_price(data, context):
        calls.add(agent="a")
        return AgentResult(data={"currentPrice": current})

    handlers["a"] = check_price
    record = run(runtime_factory, PRICE, handlers, data={"lastKnownPrice": 99.99})
    assert record.status == "completed"
    assert calls.agents() == ["a", branch, "d"]
    assert calls.count(skipped) == 0


@pytest.mark.parametrize(
    ("current", "alerted"), [(85.0, True), (95.0, False), (89.99, True), (90.0, False)]
)
def test_arithmetic_condition_drop_over_ten_percent(runtime_factory, calls, current, alerted):
    from baton_agent import AgentResult, agent

    @agent
    def check_price(data, context):
        return AgentResult(data={"currentPrice": current})

    definition = {
        "id": "drop",
        "name": "Drop",
        "agents": ["a", "b", "c"],
        "conditions": [
            {
                "after": "a",
                "when": "(lastKnownPrice - currentPrice) / lastKnownPrice > 0.1",
                "then": ["b"],
                "else": ["c"],
            }
        ],
    }
    handlers = {"a": check_price, "b": echo(calls, "b"), "c": echo(calls, "c")}
    record = run(runtime_factory, definition, handlers, data={"lastKnownPrice": 100})
    assert record.status == "completed"
    assert calls.agents() == (["b"] if alerted else ["c"])


def test_agent_failing_twice_then_succeeding(runtime_factory, calls):
    handlers = {"a": echo(calls, "a"), "b": echo(calls, "b", fail_times=2), "c": echo(calls, "c")}
    record = run(
        runtime_factory, {"id": "flaky", "name": "Flaky", "agents": ["a", "b", "c"]}, handlers
    )
    assert record.status == "completed"
    assert record.handoff("b").attempt == 3
    assert [c["attempt"] for c in calls.of("b")] == [1, 2, 3]
    assert [w.seconds for w in record.waits] == [2, 4]
    assert {w.step for w in record.waits} == {"b"}
    assert [w.after_error for w in record.waits] == ["AgentError", "AgentError"]
    assert record.metrics.failed_handoffs == 2
    assert calls.agents() == ["a", "b", "b", "b", "c"]


def test_agent_always_failing_exhausts_three_retries(runtime_factory, calls):
    handlers = {
        "a": echo(calls, "a"),
        "b": echo(calls, "b", always_fail=True),
        "c": echo(calls, "c"),
    }
    definition = {
        "id": "fail",
        "name": "Fail",
        "agents": ["a", "b", "c"],
        "config": {"maxRetries": 3},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "failed"
    assert [w.seconds for w in record.waits] == [2, 4, 8]
    assert record.error is not None
    assert record.error.retry_count == 3
    assert record.error.agent_name == "b"
    assert record.error.agent_name == "b"
    assert record.error.error_type == "AgentError"
    assert record.error.message == "b failed on attempt 4"
    assert calls.count("b") == 4
    assert calls.count("c") == 0
    assert [h.agent for h in record.handoffs] == ["a"]
    assert record.output["a"] == 1


def test_input_errors_are_not_retried(runtime_factory, calls):
    handlers = {"a": echo(calls, "a", always_fail=True, error=AgentInputError)}
    record = run(runtime_factory, {"id": "in", "name": "In", "agents": ["a"]}, handlers)
    assert record.status == "failed"
    assert calls.count("a") == 1
    assert record.waits == []
    assert record.error.error_type == "AgentInputError"


def test_alternative_fallback_runs_once(runtime_factory, calls):
    handlers = {
        "a": echo(calls, "a", always_fail=True),
        "alt": echo(calls, "alt"),
        "b": echo(calls, "b"),
    }
    definition = {
        "id": "alt",
        "name": "Alt",
        "agents": ["a", "b"],
        "fallbacks": {"a": {"strategy": "alternative", "alternative": "alt", "maxRetries": 1}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    assert calls.agents() == ["a", "a", "alt", "b"]
    assert calls.of("alt")[0]["replaces"] == "a"
    assert [w.seconds for w in record.waits] == [2]
    alternative = record.handoff("alt")
    assert alternative.replaces == "a"
    assert alternative.attempt == 1
    assert record.output["alt"] == 1


def test_alternative_that_fails_fails_the_workflow_without_retries(runtime_factory, calls):
    handlers = {
        "a": echo(calls, "a", always_fail=True),
        "alt": echo(calls, "alt", always_fail=True),
        "b": echo(calls, "b"),
    }
    definition = {
        "id": "alt2",
        "name": "Alt2",
        "agents": ["a", "b"],
        "fallbacks": {"a": {"strategy": "alternative", "alternative": "alt", "maxRetries": 0}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "failed"
    assert calls.agents() == ["a", "alt"]
    assert record.error.agent_name == "alt"


def test_skip_fallback_records_the_skipped_handoff_and_continues(runtime_factory, calls):
    handlers = {
        "a": echo(calls, "a"),
        "b": echo(calls, "b", always_fail=True),
        "c": echo(calls, "c"),
    }
    definition = {
        "id": "skip",
        "name": "Skip",
        "agents": ["a", "b", "c"],
        "fallbacks": {"b": {"strategy": "skip", "maxRetries": 2}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    assert calls.agents() == ["a", "b", "b", "b", "c"]
    skipped = record.handoff("b")
    assert skipped.skipped is True
    assert skipped.accuracy == 0
    assert skipped.validated_by == ["fallback-skip"]
    assert skipped.data == {"skipped": True, "reason": "AgentError: b failed on attempt 3"}
    assert skipped.error == "AgentError" and record.metrics.failed_handoffs == 3
    assert [h.agent for h in record.handoffs] == ["a", "b", "c"]
    assert "b" not in record.output
    assert calls.of("c")[0]["data"]["trail"] == ["a"]


def test_skip_inside_a_parallel_group(runtime_factory, calls):
    handlers = {
        "a": echo(calls, "a"),
        "b": echo(calls, "b", always_fail=True),
        "c": echo(calls, "c"),
    }
    definition = {
        "id": "pskip",
        "name": "PSkip",
        "agents": ["a", "b", "c"],
        "config": {"parallelGroups": [["a", "b"]]},
        "fallbacks": {"b": {"strategy": "skip", "maxRetries": 0}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    assert record.handoff("b").skipped
    assert record.output["a"] == 1 and record.output["c"] == 1


def test_abort_fails_on_the_first_error_without_retries(runtime_factory, calls):
    handlers = {"a": echo(calls, "a", always_fail=True), "b": echo(calls, "b")}
    definition = {
        "id": "abort",
        "name": "Abort",
        "agents": ["a", "b"],
        "fallbacks": {"a": {"strategy": "abort"}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "failed"
    assert calls.agents() == ["a"]
    assert record.waits == []
    assert record.error.retry_count == 0
    assert record.error.agent_name == "a"


def test_accuracy_below_threshold_is_retried_then_fails(runtime_factory, calls):
    reg = registry(a={"requiredAccuracy": 90})
    handlers = {"a": echo(calls, "a", accuracy=80), "b": echo(calls, "b")}
    definition = {"id": "acc", "name": "Acc", "agents": ["a", "b"], "config": {"maxRetries": 2}}
    record = run(runtime_factory, definition, handlers, reg=reg)
    assert record.status == "failed"
    assert calls.count("a") == 3
    assert [w.seconds for w in record.waits] == [2, 4]
    assert record.error.error_type == "AccuracyBelowThreshold"
    assert record.error.message == "Agent a accuracy (80%) below threshold (90%)"
    assert record.error.retry_count == 2


def test_accuracy_below_threshold_then_falls_back(runtime_factory, calls):
    reg = registry(a={"requiredAccuracy": 90})
    handlers = {
        "a": echo(calls, "a", accuracy=80),
        "alt": echo(calls, "alt", accuracy=95),
        "b": echo(calls, "b"),
    }
    definition = {
        "id": "acc2",
        "name": "Acc2",
        "agents": ["a", "b"],
        "fallbacks": {"a": {"strategy": "alternative", "alternative": "alt", "maxRetries": 1}},
    }
    record = run(runtime_factory, definition, handlers, reg=reg)
    assert record.status == "completed"
    assert calls.agents() == ["a", "a", "alt", "b"]
    assert record.handoff("alt").accuracy == 95


def test_workflow_timeout_ends_failed_with_a_timeout_error(runtime_factory, calls):
    handlers = {"a": echo(calls, "a"), "b": echo(calls, "b", sleep=3)}
    definition = {"id": "slow", "name": "Slow", "agents": ["a", "b"], "config": {"timeout": "1s"}}
    record = run(runtime_factory, definition, handlers)
    assert record.status == "failed"
    assert record.sfn_status == "TIMED_OUT"
    assert record.error.error_type == "States.Timeout"
    assert record.error.message == "workflow timed out after 1s while b was running"
    assert record.error.agent_name == "b"
    assert record.metrics.total_execution_time < 2500


def test_resume_continues_after_the_checkpointed_step(runtime_factory, calls):
    handlers = {n: echo(calls, n) for n in "abc"}
    reg = registry()
    runtime = runtime_factory(reg, handlers)
    workflow = compiled({"id": "res", "name": "Res", "agents": ["a", "b", "c"]}, reg)
    record = runtime.run(workflow, resume={"after": "a", "data": {"a": 1, "trail": ["a"]}})
    assert record.status == "completed"
    assert calls.agents() == ["b", "c"]
    assert record.output == {"a": 1, "b": 1, "c": 1, "trail": ["a", "b", "c"]}


def test_real_waits_really_wait(runtime_factory, calls):
    handlers = {"a": echo(calls, "a", fail_times=1)}
    definition = {
        "id": "wait",
        "name": "Wait",
        "agents": ["a"],
        "config": {"maxRetries": 1, "backoff": {"interval": "1s"}},
    }
    record = run(runtime_factory, definition, handlers, real_waits=True)
    assert record.status == "completed"
    assert [w.seconds for w in record.waits] == [1]
    first, second = calls.of("a")
    assert second["started"] - first["ended"] >= 1.0


def test_offline_waits_are_recorded_not_waited(runtime_factory, calls):
    handlers = {"a": echo(calls, "a", fail_times=3)}
    definition = {
        "id": "nowait",
        "name": "NoWait",
        "agents": ["a"],
        "config": {"backoff": {"interval": "30s"}},
    }
    record = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    assert [w.seconds for w in record.waits] == [30, 60, 120]
    assert calls.of("a")[-1]["started"] - calls.of("a")[0]["ended"] < 5


def test_concurrent_executions_keep_their_own_data(runtime_factory, calls):
    handlers = {n: echo(calls, n, sleep=0.05) for n in "abc"}
    reg = registry()
    runtime = runtime_factory(reg, handlers)
    workflow = compiled({"id": "conc", "name": "Conc", "agents": ["a", "b", "c"]}, reg)
    arns = [runtime.start(workflow, {"n": i}, tenant=f"t{i}") for i in range(4)]
    for arn in arns:
        runtime.wait(arn)
    records = [runtime.record(workflow, arn) for arn in arns]
    assert [r.output["n"] for r in records] == [0, 1, 2, 3]
    assert all(r.status == "completed" and len(r.handoffs) == 3 for r in records)


def test_awkward_data_round_trips_through_the_jsonata_variables(runtime_factory, calls):
    awkward = {
        "quote": 'say "hi" {% not jsonata %} $data',
        "unicode": "prix: 12,50 € — ok",
        "nested": {"list": [1, 2.5, None, True], "empty": {}},
        "big": 12345678901234567,
    }
    handlers = {n: echo(calls, n) for n in "ab"}
    record = run(
        runtime_factory, {"id": "awk", "name": "Awk", "agents": ["a", "b"]}, handlers, data=awkward
    )
    assert record.status == "completed"
    assert calls.of("a")[0]["data"] == awkward
    assert {k: record.output[k] for k in awkward} == awkward


def test_expressions_are_evaluated_with_bindings_not_reparsed_data(
    runtime_factory, calls, monkeypatch
):
    from baton.local.seams import jsonata_evaluation as seam

    seen = []
    original = seam._evaluate_jsonata
    monkeypatch.setattr(seam, "_evaluate_jsonata", lambda e: seen.append(type(e)) or original(e))
    handlers = {n: echo(calls, n) for n in "ab"}
    record = run(
        runtime_factory,
        {"id": "bind", "name": "Bind", "agents": ["a", "b"]},
        handlers,
        data={"x": 1},
    )
    assert record.status == "completed"
    assert seen and all(kind is seam._Composed for kind in seen)


def test_user_text_with_dollar_braces_and_line_breaks_runs_unchanged(runtime_factory):
    registry, workflow = hostile_workflow()
    seen = {}

    @agent
    def first(data, context):
        seen.update(data=dict(data), config=dict(context.config))
        return AgentResult(data={"a": 1})

    calls = Calls()
    runtime = runtime_factory(registry, {"a": first, "b": echo(calls, "b"), "c": echo(calls, "c")})
    record = runtime.run(workflow)
    assert record.status == "completed"
    assert seen["data"]["message"] == "price is ${price}, total ${AgentFn_a}"
    assert seen["data"]["note"] == "line\u2028separator"
    assert seen["config"] == {"template": "${AgentFn_c}"}
    assert calls.agents() == ["b"]  # the multi-line condition held


def test_a_step_passes_on_its_data_alone_not_its_lambda_answer(runtime_factory, calls):
    """Each step's data reaches the next through `$data`: the state output a step passes on is
    empty, so its result (with Lambda's envelope and HTTP headers) is not carried again in the
    next state's input, in both history events of each state, or against the 256 KB limit."""
    handlers = {n: echo(calls, n, always_fail=n in "de") for n in "abcdef"}
    handlers["alt"] = echo(calls, "alt")
    definition = {
        "id": "lean",
        "name": "Lean",
        "agents": ["a", "b", "c", "d", "e", "f"],
        "config": {"parallelGroups": [["b", "c"]]},
        "fallbacks": {
            "d": {"strategy": "skip", "maxRetries": 0},
            "e": {"strategy": "alternative", "alternative": "alt", "maxRetries": 0},
        },
    }
    reg = make_registry(*"abcdef", "alt")
    runtime = runtime_factory(reg, handlers)
    workflow = compiled(definition, reg)
    run_arn = runtime.start(workflow, {"seed": 1})
    runtime.wait(run_arn)
    events = runtime.sfn.get_execution_history(executionArn=run_arn, maxResults=1000)["events"]
    exited = {
        e["stateExitedEventDetails"]["name"]: e["stateExitedEventDetails"]["output"]
        for e in events
        if e["type"].endswith("StateExited")
    }
    entered = {
        e["stateEnteredEventDetails"]["name"]: e["stateEnteredEventDetails"]["input"]
        for e in events
        if e["type"].endswith("StateEntered")
    }
    # a step, a group, a skip and an alternative pass nothing on (d and e failed: what they
    # pass to their fallbacks is their error); f ends the run with the data
    passing_on = ["a", "Parallel: b + c", "Skip d", "alt (instead of e)"]
    states = workflow.asl["States"]
    assert [states[name]["Next"] for name in passing_on] == ["Parallel: b + c", "d", "e", "f"]
    assert [exited[name] for name in passing_on] == ["{}"] * 4
    assert [entered[name] for name in ("Parallel: b + c", "d", "e", "f")] == ["{}"] * 4
    assert json.loads(exited["f"]) == {
        "data": {
            "seed": 1,
            **{n: 1 for n in ("a", "b", "c", "alt", "f")},
            "trail": ["a", "c", "alt", "f"],
        }
    }
    record = runtime.record(workflow, run_arn)
    assert record.status == "completed" and record.handoff("d").skipped
    agents = [h.agent for h in record.handoffs]  # b and c in the order they finished
    assert agents[0] == "a" and sorted(agents[1:3]) == ["b", "c"]
    assert agents[3:] == ["d", "alt", "f"]
