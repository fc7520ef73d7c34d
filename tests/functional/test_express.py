"""Express workflows offline: records, handoffs, events, recovery, cancel and pause without the
history API or status events, which the offline AWS refuses for Express runs as AWS does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from baton_agent import AgentError, agent
from baton_agent.keys import is_express_run as is_express
from baton_service.exceptions import RunStillFinishingError
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo, wait_until

NAMES = ("a", "b", "c")
REGISTRY = make_registry(*NAMES, **{n: {"timeout": "5s"} for n in NAMES})


def express(**config):
    return {
        "id": "quick",
        "name": "Quick",
        "type": "express",
        "agents": list(NAMES),
        "config": {"autoRecovery": False, "maxRetries": 2, **config},
    }


def kinds(runtime):
    return [e["detail-type"] for e in runtime.services.events()]


def test_an_express_run_keeps_its_record_from_its_own_reports(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    done = runtime.execute(compiled(express(), REGISTRY), {"seed": 1})

    assert done["status"] == "completed"
    assert is_express(done["currentRun"])
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b", "c"]
    assert done["output"]["trail"] == ["a", "b", "c"] and done["output"]["seed"] == 1
    assert done["metrics"]["successfulHandoffs"] == 3
    assert done["metrics"]["totalExecutionTime"] > 0
    assert kinds(runtime) == [
        "Workflow Started",
        "Agent Completed",
        "Agent Completed",
        "Agent Completed",
        "Workflow Completed",
    ]
    services = runtime.services
    assert services.stats.summaries(["a", "c"], services.catalog.workflows)["c"]["calls"] == 1


def test_the_offline_aws_refuses_what_aws_refuses_for_an_express_run(runtime_factory):
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    workflow = compiled(express(), REGISTRY)
    run = runtime.execute(workflow)["currentRun"]
    for call in (
        lambda: runtime.sfn.describe_execution(executionArn=run),
        lambda: runtime.sfn.get_execution_history(executionArn=run),
        lambda: runtime.sfn.stop_execution(executionArn=run),
    ):
        with pytest.raises(ClientError, match=r"InvalidArn.*not valid in this context: express"):
            call()
    machine = runtime.deploy(workflow)
    with pytest.raises(ClientError, match="StateMachineTypeNotSupported"):
        runtime.sfn.list_executions(stateMachineArn=machine)


def test_a_failed_express_run_names_the_agent_and_its_retries(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", always_fail=True)}
    runtime = runtime_factory(REGISTRY, handlers)
    failed = runtime.execute(compiled(express(), REGISTRY))

    assert failed["status"] == "failed"
    error = failed["error"]
    assert error["agentName"] == "b" and error["step"] == "b"
    assert error["errorType"] == "AgentError" and error["retryCount"] == 2
    assert failed["metrics"]["failedHandoffs"] == 3
    assert failed["checkpoint"]["after"] == "a"
    assert calls.count("c") == 0
    assert kinds(runtime)[-2:] == ["Agent Failed", "Workflow Failed"]


def test_retries_an_express_run_recovered_from_are_counted_not_blamed(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", fail_times=2)}
    runtime = runtime_factory(REGISTRY, handlers)
    done = runtime.execute(compiled(express(), REGISTRY))
    assert done["status"] == "completed"
    assert done["metrics"]["failedHandoffs"] == 2
    assert done.get("error") is None


def test_an_express_run_recovers_automatically(runtime_factory):
    calls = Calls()
    broken = {"b": True}

    def flaky(data, context):
        calls.add(agent="b", attempt=context.attempt)
        if broken["b"]:
            broken["b"] = False
            raise AgentError("b is down for a moment")
        return {"b": True, "trail": [*data.get("trail", []), "b"]}

    handlers = {n: echo(calls, n) for n in NAMES} | {"b": agent(flaky)}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(express(autoRecovery=True, maxRetries=0), REGISTRY)
    done = runtime.execute(workflow)
    assert done["status"] == "completed"
    assert len(done["runs"]) == 2 and done["recoveries"] == 1
    assert calls.count("a") == 1  # the recovered run resumed after a
    assert kinds(runtime).count("Workflow Started") == 2


def held(calls, name, release):
    """An agent that, once started, waits until the test releases it."""

    @agent
    def handler(data, context):
        calls.add(agent=name, attempt=context.attempt)
        assert release.wait(10), f"the test never released {name}"
        return {name: True, "trail": [*data.get("trail", []), name]}

    return handler


def while_b_runs(runtime_factory):
    """An execution caught in the middle of its step b, which goes on once the test has
    cancelled or paused it (`release`): a fixed sleep could end first on a loaded machine."""
    calls, release = Calls(), threading.Event()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": held(calls, "b", release)}
    runtime = runtime_factory(REGISTRY, handlers)
    execution_id = runtime.execute(compiled(express(), REGISTRY), settle=False)["executionId"]
    wait_until(lambda: calls.count("b") == 1)  # its step has begun
    return runtime, calls, execution_id, release


def test_cancel_of_an_express_run_is_cooperative(runtime_factory):
    runtime, calls, execution_id, release = while_b_runs(runtime_factory)

    cancelled = runtime.services.lifecycle.cancel("default", execution_id)  # no StopExecution
    assert cancelled["status"] == "cancelled"
    release.set()
    settled = runtime.services.settle("default", execution_id)
    assert settled["status"] == "cancelled"
    assert calls.count("b") == 1 and calls.count("c") == 0  # b finished; c never started
    assert [h["agent"] for h in settled["handoffs"]] == ["a", "b"]
    assert kinds(runtime)[-1] == "Workflow Cancelled"


def test_pause_then_resume_of_an_express_run(runtime_factory):
    runtime, calls, execution_id, release = while_b_runs(runtime_factory)

    runtime.services.lifecycle.pause("default", execution_id)
    release.set()
    paused = runtime.services.settle("default", execution_id)
    assert paused["status"] == "paused"
    assert paused["checkpoint"]["after"] == "b"  # b's work took effect
    assert calls.count("c") == 0
    assert kinds(runtime).count("Workflow Paused") == 1

    runtime.services.lifecycle.resume("default", execution_id)
    done = runtime.services.settle("default", execution_id)
    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 1]
    assert done["output"]["trail"] == ["a", "b", "c"]


def test_a_resume_waits_for_the_paused_express_runs_current_step(runtime_factory):
    """A paused Express run ends by itself once its current step is done, and reports it;
    a resume before that would run the step again (the run's write is then refused)."""
    runtime, calls, execution_id, release = while_b_runs(runtime_factory)
    lifecycle = runtime.services.lifecycle
    lifecycle.pause("default", execution_id)
    with pytest.raises(RunStillFinishingError, match="its last run's current step may still"):
        lifecycle.resume("default", execution_id)
    release.set()
    assert runtime.services.settle("default", execution_id)["status"] == "paused"
    lifecycle.resume("default", execution_id)
    assert runtime.services.settle("default", execution_id)["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 1]


def test_repair_settles_an_express_run_that_never_reported_its_end(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    events_function = runtime.manifest.events_function.function_name

    def unreachable(event, context):
        raise ConnectionError("the events function is down")

    runtime.dispatcher.handlers[events_function] = unreachable  # every report fails
    stuck = runtime.execute(compiled(express(), REGISTRY))
    assert stuck["status"] == "running"  # the run ended, but no one was told
    assert calls.count("c") == 1
    execution_id = stuck["executionId"]

    handler = runtime.services.handler
    early = handler.repair("default", execution_id)
    assert "may still be running" in early["ignored"]  # it cannot be described: time tells

    six_minutes_ago = (datetime.now(UTC) - timedelta(minutes=6)).isoformat()
    runtime.services.store.update("default", execution_id, {"runStartedAt": six_minutes_ago})
    assert handler.repair("default", execution_id) == {
        "status": "failed",
        "notRecovered": "auto-recovery is off",
    }
    repaired = runtime.services.lifecycle.get("default", execution_id)
    assert repaired["status"] == "failed"
    assert "without reporting its end" in repaired["error"]["message"]
    assert handler.repair("default", execution_id) == {
        "ignored": "this run's outcome was applied already"
    }


def test_a_stop_is_not_hidden_by_a_fallback_or_a_group(runtime_factory):
    calls, release = Calls(), threading.Event()
    handlers = {n: echo(calls, n) for n in NAMES} | {"a": held(calls, "a", release)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = express(parallelGroups=[["b", "c"]]) | {
        "fallbacks": {"b": {"strategy": "skip"}, "c": {"strategy": "skip"}}
    }
    execution_id = runtime.execute(compiled(definition, REGISTRY), settle=False)["executionId"]
    wait_until(lambda: calls.count("a") == 1)  # its step has begun

    runtime.services.lifecycle.cancel("default", execution_id)
    release.set()
    settled = runtime.services.settle("default", execution_id)
    assert settled["status"] == "cancelled"
    assert calls.count("b") == calls.count("c") == 0  # each member checked, none ran
    assert [h["agent"] for h in settled["handoffs"]] == ["a"]  # no member skipped either


def test_a_run_number_is_read_from_an_express_arn():
    from baton_agent.keys import run_name

    arn = "arn:aws:states:us-east-1:123456789012:express:baton-quick:exec_1_abc-2:0f1e-2d3c"
    assert run_name(arn) == "exec_1_abc-2"
    standard = "arn:aws:states:us-east-1:123456789012:execution:baton-quick:exec_1_abc-3"
    assert run_name(standard) == "exec_1_abc-3"


def test_an_express_reports_retry_takes_over_a_settlement_its_killed_attempt_held(
    runtime_factory,
):
    """The events function is killed while it settles an Express run's end (its lease is left
    held). The state machine retries the report only once that attempt has ended, so the
    retry takes over at once: the end is archived and notified once, its events published
    once."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    services = runtime.services
    s3 = services.handler.outlets.s3
    real_put, release = s3.put_object, services.handler._release
    killed = {"left": 1}

    def killing_archive(**request):
        if request["Bucket"] == runtime.manifest.archive_bucket and killed["left"]:
            killed["left"] -= 1
            services.handler._release = lambda record, lease: None  # killed: nothing runs
            raise ConnectionError("the function was killed")
        services.handler._release = release
        return real_put(**request)

    s3.put_object = killing_archive
    done = runtime.execute(compiled(express(), REGISTRY), {})
    assert done["status"] == "completed" and killed["left"] == 0
    assert kinds(runtime).count("Workflow Completed") == 1
    assert [n["Subject"] for n in services.notifications()] == ["Workflow Completed"]
    stored = services.store.get("default", done["executionId"])
    assert stored["settledRun"] == stored["finishedRun"] == 1


def test_a_resumed_express_run_runs_no_completed_group_member_again(runtime_factory):
    """As for Standard (test_lifecycle): the resumed run enters the group again whole, and the
    member the failed run completed hands on its recorded result."""
    calls, broken = Calls(), {"c": True}

    @agent
    def breakable(data, context):
        calls.add(agent="c", attempt=context.attempt)
        if broken["c"]:
            raise AgentError("c is broken")
        return {"c": True}

    runtime = runtime_factory(
        REGISTRY, {"a": echo(calls, "a"), "b": echo(calls, "b"), "c": breakable}
    )
    workflow = compiled(express(maxRetries=0, parallelGroups=[["b", "c"]]), REGISTRY)
    failed = runtime.execute(workflow, {"seed": 1})
    assert failed["status"] == "failed" and [h["agent"] for h in failed["handoffs"]] == ["a", "b"]

    broken["c"] = False
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])
    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 2]
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b", "c"]
    assert done["output"]["b"] == 1 and done["output"]["c"] is True
    assert kinds(runtime).count("Agent Completed") == 3
