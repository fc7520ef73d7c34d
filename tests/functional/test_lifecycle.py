"""The execution lifecycle offline: records in DynamoDB, resume, pause, cancel, idempotency,
status-change events, dependent workflows and bounded auto-recovery."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest
from botocore.exceptions import ClientError

from baton_agent import AgentError, AgentInputError, AgentResult, agent, keys
from baton_agent.stash import STASH_SK, DynamoStash
from baton_agent.tables import LISTED
from baton_service import lifecycle as lifecycle_module
from baton_service.exceptions import (
    IdempotencyConflictError,
    InvalidTransitionError,
    RunStillFinishingError,
)
from baton_service.publishing import EventPublisher
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo, wait_until

NAMES = ("a", "b", "c", "d", "e")
REGISTRY = make_registry(*NAMES)


def five_steps(**config):
    return {
        "id": "five",
        "name": "Five",
        "agents": list(NAMES),
        "config": {"autoRecovery": False, **config},
    }


def breakable(calls: Calls, name: str, broken: dict[str, bool]):
    @agent
    def handler(data, context):
        calls.add(agent=name, attempt=context.attempt)
        if broken[name]:
            raise AgentError(f"{name} is broken")
        return AgentResult(data={name: True})

    return handler


def kinds(events):
    return [e["detail-type"] for e in events]


def test_resume_after_a_permanent_failure_runs_no_completed_step_again(runtime_factory):
    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(five_steps(maxRetries=1), REGISTRY)

    failed = runtime.execute(workflow, {"seed": 1})
    assert failed["status"] == "failed"
    assert failed["error"]["agentName"] == "c"
    assert failed["error"]["retryCount"] == 1
    assert [h["agent"] for h in failed["handoffs"]] == ["a", "b"]
    assert failed["checkpoint"]["after"] == "b"
    assert failed["checkpoint"]["data"]["trail"] == ["a", "b"]
    assert failed["currentStep"] == "c"

    broken["c"] = False
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])

    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 3, 1, 1]
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b", "c", "d", "e"]
    assert done["output"]["seed"] == 1 and done["output"]["trail"] == ["a", "b", "d", "e"]
    assert done["resumedAfter"] == "b"
    assert len(done["runs"]) == 2
    assert done["currentStep"] == "Completed"


def test_a_resume_runs_no_completed_member_of_a_group_again(runtime_factory):
    """A run fails in a parallel group (c) after another member (b) completed: the group's
    checkpoint is the step before it, so the resumed run enters the group again whole. b hands
    on the result its earlier run recorded: not called, not recorded, counted or announced
    again."""
    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    grouped = five_steps(maxRetries=0, parallelGroups=[["b", "c"]])
    workflow = compiled(grouped, REGISTRY)

    failed = runtime.execute(workflow, {"seed": 1})
    assert failed["status"] == "failed" and failed["error"]["agentName"] == "c"
    assert [h["agent"] for h in failed["handoffs"]] == ["a", "b"]
    assert failed["checkpoint"]["after"] == "a"

    broken["c"] = False
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])

    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 2, 1, 1]
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b", "c", "d", "e"]
    assert done["output"]["b"] == 1 and done["output"]["c"] is True
    assert done["output"]["trail"] == ["a", "b", "d", "e"]
    assert done["metrics"]["successfulHandoffs"] == 3  # the resumed run's own: c, d, e
    completed = [
        e["detail"]["agent"]
        for e in runtime.services.events()
        if e["detail-type"] == "Agent Completed"
    ]
    assert sorted(completed) == ["a", "b", "c", "d", "e"]
    stats = runtime.services.stats.summaries(["b", "c"], ["five"])
    assert (stats["b"]["calls"], stats["c"]["calls"]) == (1, 1)


def test_views_name_the_current_step_without_describing_the_state_machine(
    runtime_factory, monkeypatch
):
    """DescribeStateMachine has a low request quota in AWS: a start's answer and a record's view
    take the current step from the catalog's compiled definition; only a resume reads the
    deployed state machine (its resume point must be in the definition that will run)."""
    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(five_steps(maxRetries=0), REGISTRY)
    lifecycle = runtime.services.lifecycle
    runtime.deploy(workflow)
    described: list[str] = []
    describe = lifecycle.sfn.describe_state_machine
    monkeypatch.setattr(
        lifecycle.sfn,
        "describe_state_machine",
        lambda **kw: described.append(kw["stateMachineArn"]) or describe(**kw),
    )

    started = lifecycle.start("five", {"seed": 1})
    assert (started["status"], started["currentStep"], started["handoffs"]) == ("running", "a", [])
    failed = runtime.services.settle("default", started["executionId"])
    assert (failed["checkpoint"]["after"], failed["currentStep"]) == ("b", "c")
    assert described == []

    broken["c"] = False
    lifecycle.resume("default", failed["executionId"])
    assert len(described) == 1  # the resume's check, against the deployed definition
    done = runtime.services.settle("default", failed["executionId"])
    assert (done["status"], done["currentStep"]) == ("completed", "Completed")
    assert len(described) == 1


def test_a_view_reads_the_execution_in_one_request_page_after_page(runtime_factory, monkeypatch):
    """The full view (record, handoffs, checkpoint, output) is one Query of the execution's items,
    every page of it read (here 2 items a page); the end's delivery reads the record with the
    handoffs the same way, and counts them (test_cost checks its requests)."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    lifecycle = runtime.services.lifecycle
    client = lifecycle.store.client
    operations: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: operations.append(model.name)
    )
    query = client.query
    read: list[int] = []

    def paged(**request):
        page = query(**request, Limit=2)
        read.append(page["Count"])
        return page

    monkeypatch.setattr(client, "query", paged)
    done = runtime.execute(compiled(five_steps(), REGISTRY))
    assert done["status"] == "completed"
    assert [h["agent"] for h in done["handoffs"]] == list(NAMES)
    # what an agent stashes in the partition (a fetched page) is not read with them
    assert keys.CHECKPOINT < keys.FAILURE_PREFIX < keys.HANDOFF_PREFIX < keys.RECORD < STASH_SK
    stash = DynamoStash(lifecycle.store.table, client)
    stash.put("default", done["executionId"], "<html>" + "x" * 300_000)
    operations.clear()
    read.clear()
    view = lifecycle.get("default", done["executionId"])
    # 8 items (record, checkpoint, 5 handoffs, the output kept apart), 2 a page, then none
    assert set(operations) == {"Query"} and len(operations) == 5
    assert sum(read) == 8
    assert [h["agent"] for h in view["handoffs"]] == list(NAMES)
    assert view["checkpoint"]["after"] == "e" and view["currentStep"] == "Completed"
    assert view == done
    assert (
        runtime.services.stats.summaries(["a"], runtime.services.catalog.workflows)["a"]["calls"]
        == 1
    )  # the end counted the handoffs it read with the record


def test_pause_during_step_two_then_resume(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", sleep=0.5)}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(five_steps(), REGISTRY)
    started = runtime.execute(workflow, settle=False)
    execution_id = started["executionId"]
    wait_until(lambda: runtime.listener_seen("b"))

    paused = runtime.services.lifecycle.pause("default", execution_id)
    assert paused["status"] == "paused"
    settled = runtime.services.settle("default", execution_id)
    assert settled["status"] == "paused"
    replayed = runtime.services.handler.handle(
        runtime.services.status_change_event(started["currentRun"])
    )
    assert replayed == {"ignored": "already announced"}  # delivered twice, announced once
    assert kinds(runtime.services.events()).count("Workflow Paused") == 1
    wait_until(lambda: calls.count("b") == 1)  # the interrupted invocation still finishes
    assert calls.count("c") == 0
    with pytest.raises(InvalidTransitionError, match=r"cannot pause execution .*: it is paused"):
        runtime.services.lifecycle.pause("default", execution_id)

    runtime.services.lifecycle.resume("default", execution_id)
    done = runtime.services.settle("default", execution_id)
    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 1, 1, 1]


def test_cancel_stops_the_workflow_and_no_later_agent_runs(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", sleep=0.4)}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(five_steps(), REGISTRY)
    execution_id = runtime.execute(workflow, settle=False)["executionId"]
    wait_until(lambda: runtime.listener_seen("b"))

    cancelled = runtime.services.lifecycle.cancel("default", execution_id)
    assert cancelled["status"] == "cancelled"
    time.sleep(0.6)
    settled = runtime.services.settle("default", execution_id)
    assert settled["status"] == "cancelled"
    assert calls.count("c") == 0
    assert "Workflow Cancelled" in kinds(runtime.services.events())
    with pytest.raises(
        InvalidTransitionError, match=r"cannot cancel execution .*: it is cancelled"
    ):
        runtime.services.lifecycle.cancel("default", execution_id)


def test_a_cancel_that_comes_while_the_run_starts_stops_it(runtime_factory, monkeypatch):
    """A new execution's record is created running, its first run named, before the run starts.
    A cancel that comes between the run's start and the record naming it (it finds no run to
    stop) is not lost: the start sees it in the record its last write returns and stops the
    run."""
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"a": echo(calls, "a", sleep=0.4)}
    runtime = runtime_factory(REGISTRY, handlers)
    lifecycle = runtime.services.lifecycle
    runtime.deploy(compiled(five_steps(), REGISTRY))
    start = lifecycle.sfn.start_execution
    stopped_runs: list[str] = []
    stop = lifecycle.sfn.stop_execution

    def start_then_cancelled(**request):
        started = start(**request)
        execution_id = request["name"].rsplit("-", 1)[0]
        assert lifecycle.store.get("default", execution_id)["status"] == "running"
        assert lifecycle.cancel("default", execution_id)["status"] == "cancelled"
        return started

    monkeypatch.setattr(lifecycle.sfn, "start_execution", start_then_cancelled)
    monkeypatch.setattr(
        lifecycle.sfn,
        "stop_execution",
        lambda **request: stopped_runs.append(request["executionArn"]) or stop(**request),
    )
    started = lifecycle.start("five", {})
    assert started["status"] == "cancelled"
    assert stopped_runs == [started["currentRun"]]  # the cancel itself had no run to stop
    settled = runtime.services.settle("default", started["executionId"])
    assert settled["status"] == "cancelled"
    assert runtime.sfn.describe_execution(executionArn=started["currentRun"])["status"] == (
        "ABORTED"
    )
    assert calls.count("b") == 0


def _paused_while_b_runs(runtime_factory, b_fails: bool = False):
    """An execution paused while b runs, held: Step Functions has ended the run, b goes on."""
    calls, release, ended = Calls(), threading.Event(), threading.Event()

    @agent
    def held(data, context):
        calls.add(agent="b", run=context.run)
        try:
            assert release.wait(10), "the test never released b"
            if b_fails and context.run == 1:
                raise AgentError("b failed after the pause")
            return AgentResult(data={"b": context.run})
        finally:
            ended.set()

    handlers = {n: echo(calls, n) for n in NAMES} | {"b": held}
    runtime = runtime_factory(REGISTRY, handlers)
    execution_id = runtime.execute(compiled(five_steps(), REGISTRY), settle=False)["executionId"]
    wait_until(lambda: calls.count("b") == 1)
    assert runtime.services.lifecycle.pause("default", execution_id)["status"] == "paused"
    paused = runtime.services.settle("default", execution_id)
    assert paused["status"] == "paused"
    return runtime, calls, execution_id, release, ended


def test_a_resume_waits_until_the_paused_runs_step_is_recorded(runtime_factory):
    """Pause stops the run at once (as in AWS) while b's function runs on and records b. A
    resume meanwhile would run b, and its side effects, again: it is refused until b is
    recorded, then continues after b."""
    runtime, calls, execution_id, release, _ = _paused_while_b_runs(runtime_factory)
    lifecycle = runtime.services.lifecycle
    with pytest.raises(RunStillFinishingError, match=r"step b may still be running \(until 20"):
        lifecycle.resume("default", execution_id)
    release.set()
    wait_until(lambda: lifecycle.store.checkpoint("default", execution_id)["after"] == "b")
    lifecycle.resume("default", execution_id)
    done = runtime.services.settle("default", execution_id)
    assert done["status"] == "completed"
    assert calls.count("b") == 1
    assert [(h["agent"], h["run"].rsplit("-", 1)[1]) for h in done["handoffs"]] == [
        ("a", "1"),
        ("b", "1"),
        ("c", "2"),
        ("d", "2"),
        ("e", "2"),
    ]


def test_a_resume_runs_the_step_again_once_its_deadline_has_passed(runtime_factory, monkeypatch):
    """An attempt that never records its step (it failed) holds the resume until its Task's
    timeout has surely passed; then the step is run again."""
    from baton_service import lifecycle as lifecycle_module

    runtime, calls, execution_id, release, ended = _paused_while_b_runs(
        runtime_factory, b_fails=True
    )
    lifecycle = runtime.services.lifecycle
    release.set()
    assert ended.wait(10)
    with pytest.raises(RunStillFinishingError):
        lifecycle.resume("default", execution_id)  # b recorded nothing: it may still run
    later = time.time() + REGISTRY.get("b").task_timeout_seconds + 1
    monkeypatch.setattr(lifecycle_module, "time", type("Clock", (), {"time": lambda: later}))
    lifecycle.resume("default", execution_id)
    done = runtime.services.settle("default", execution_id)
    assert done["status"] == "completed"
    assert [call["run"] for call in calls.of("b")] == [1, 2]


def held_at_b_with_its_stop_throttled(runtime_factory, monkeypatch):
    """A five-step run held in b until `release` is set, whose StopExecution is throttled
    until `restore()`: (runtime, execution id, calls, release, restore)."""
    calls, release = Calls(), threading.Event()

    @agent
    def held(data, context):
        calls.add(agent="b", run=context.run)
        assert release.wait(10), "the test never released b"
        return AgentResult(data={"b": context.run})

    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES} | {"b": held})
    lifecycle = runtime.services.lifecycle
    execution_id = runtime.execute(compiled(five_steps(), REGISTRY), settle=False)["executionId"]
    wait_until(lambda: calls.count("b") == 1)
    stop = lifecycle.sfn.stop_execution

    def throttled(**request):
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "StopExecution")

    monkeypatch.setattr(lifecycle.sfn, "stop_execution", throttled)
    return (
        runtime,
        execution_id,
        calls,
        release,
        lambda: monkeypatch.setattr(lifecycle.sfn, "stop_execution", stop),
    )


def test_a_paused_execution_whose_run_was_not_stopped_is_not_resumed_beside_it(
    runtime_factory, monkeypatch
):
    """The pause's StopExecution failed (throttled): the record says paused, the run goes on.
    A resume would start a second run beside it; it is refused until a cancel stops the run."""
    runtime, execution_id, calls, release, restore = held_at_b_with_its_stop_throttled(
        runtime_factory, monkeypatch
    )
    lifecycle = runtime.services.lifecycle
    with pytest.raises(ClientError):
        lifecycle.pause("default", execution_id)
    assert lifecycle.get("default", execution_id)["status"] == "paused"
    with pytest.raises(RunStillFinishingError, match="its last run is still running"):
        lifecycle.resume("default", execution_id)
    restore()
    lifecycle.cancel("default", execution_id)
    release.set()
    wait_until(lambda: lifecycle.store.checkpoint("default", execution_id)["after"] == "b")
    lifecycle.resume("default", execution_id)
    assert runtime.services.settle("default", execution_id)["status"] == "completed"
    assert calls.count("b") == 1 and calls.count("e") == 1


def test_cancelling_again_stops_a_run_whose_stop_failed(runtime_factory, monkeypatch):
    """The cancel's StopExecution failed (throttled): the record says cancelled, the run goes
    on and would complete, overriding the cancel. Cancelling again stops it."""
    runtime, execution_id, calls, release, restore = held_at_b_with_its_stop_throttled(
        runtime_factory, monkeypatch
    )
    lifecycle = runtime.services.lifecycle
    with pytest.raises(ClientError):
        lifecycle.cancel("default", execution_id)
    record = lifecycle.get("default", execution_id)
    assert record["status"] == "cancelled"
    assert runtime.sfn.describe_execution(executionArn=record["currentRun"])["status"] == "RUNNING"
    restore()
    assert lifecycle.cancel("default", execution_id)["status"] == "cancelled"
    release.set()
    assert runtime.services.settle("default", execution_id)["status"] == "cancelled"
    assert calls.count("c") == 0  # the run was stopped during b
    # once its run has ended, a cancelled execution cannot be cancelled again
    with pytest.raises(
        InvalidTransitionError, match=r"cannot cancel execution .*: it is cancelled"
    ):
        lifecycle.cancel("default", execution_id)


def test_completed_and_running_executions_cannot_be_resumed(runtime_factory):
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    done = runtime.execute(compiled(five_steps(), REGISTRY))
    with pytest.raises(
        InvalidTransitionError, match=r"cannot resume execution .*: it is completed"
    ):
        runtime.services.lifecycle.resume("default", done["executionId"])


def test_idempotency_key(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    workflow = compiled(five_steps(), REGISTRY)
    first = runtime.execute(workflow, {"order": 7}, idempotency_key="order-7")
    again = runtime.execute(workflow, {"order": 7}, idempotency_key="order-7")
    assert again["executionId"] == first["executionId"]
    assert calls.count("a") == 1
    with pytest.raises(
        IdempotencyConflictError, match="idempotency key 'order-7' was already used"
    ):
        runtime.execute(workflow, {"order": 8}, idempotency_key="order-7")
    executions, _ = runtime.services.lifecycle.list_executions("default", workflow_id="five")
    assert [e["executionId"] for e in executions] == [first["executionId"]]


def test_status_events_leave_the_right_record_and_baton_event(runtime_factory):
    broken = {"c": True}
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)

    ok = runtime.execute(compiled({"id": "ok", "name": "Ok", "agents": ["a", "b"]}, REGISTRY))
    assert ok["status"] == "completed"
    assert ok["metrics"]["successfulHandoffs"] == 2
    where = {
        "Bucket": runtime.manifest.archive_bucket,
        "Key": f"default/ok/{ok['executionId']}.json",
    }
    archived = runtime.services.s3.get_object(**where)
    assert json.loads(archived["Body"].read())["status"] == "completed"
    # tagged with its retention, which the bucket's lifecycle rule of the same tag expires
    tags = runtime.services.s3.get_object_tagging(**where)["TagSet"]
    assert tags == [{"Key": "baton-retention-days", "Value": "90"}]

    failed = runtime.execute(compiled(five_steps(maxRetries=0), REGISTRY))
    assert failed["status"] == "failed"
    assert failed["error"]["errorType"] == "AgentError"
    assert failed["error"]["message"] == "c is broken"

    events = runtime.services.events()
    by_kind = {}
    for event in events:
        by_kind.setdefault(event["detail-type"], []).append(event["detail"])
    assert {d["executionId"] for d in by_kind["Workflow Completed"]} == {ok["executionId"]}
    assert {d["executionId"] for d in by_kind["Workflow Failed"]} == {failed["executionId"]}
    assert any(d.get("agentName") == "c" for d in by_kind["Agent Failed"])
    assert len(by_kind["Agent Completed"]) >= 2
    assert by_kind["Workflow Started"]


def test_a_timed_out_run_is_a_failed_execution_with_a_timeout_error(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"d": echo(calls, "d"), "e": echo(calls, "e", sleep=2)})
    slow = {
        "id": "slow",
        "name": "Slow",
        "agents": ["d", "e"],
        "config": {"timeout": "1s", "autoRecovery": False},
    }
    record = runtime.execute(compiled(slow, REGISTRY))
    assert record["status"] == "failed"
    assert record["error"]["errorType"] == "States.Timeout"
    assert record["error"]["message"] == "workflow timed out after 1s while e was running"
    failed = [
        e["detail"] for e in runtime.services.events() if e["detail-type"] == "Workflow Failed"
    ]
    assert [d["executionId"] for d in failed] == [record["executionId"]]


def test_a_dependent_workflow_starts_with_the_output(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    downstream = compiled({"id": "down", "name": "Down", "agents": ["c"]}, REGISTRY)
    upstream = compiled(
        {
            "id": "up",
            "name": "Up",
            "agents": ["a", "b"],
            "triggers": [{"on": "completed", "workflow": "down"}],
        },
        REGISTRY,
    )
    runtime.deploy(downstream)
    done = runtime.execute(upstream, {"lead": "x"})
    [listed], _ = runtime.services.lifecycle.list_executions("default", workflow_id="down")
    started = runtime.services.lifecycle.get("default", listed["executionId"])
    assert started["input"] == done["output"]
    finished = runtime.services.settle("default", started["executionId"])
    assert finished["status"] == "completed"
    assert calls.of("c")[0]["data"]["lead"] == "x"


def test_auto_recovery_runs_at_most_max_recoveries_times(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", always_fail=True)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = {
        "id": "rec",
        "name": "Rec",
        "agents": ["a", "b", "c"],
        "config": {"maxRetries": 0, "autoRecovery": True, "maxRecoveries": 2},
    }
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "failed"
    assert record["recoveries"] == 2
    assert len(record["runs"]) == 3
    assert calls.count("a") == 1
    assert calls.count("b") == 3


def test_auto_recovery_runs_no_completed_member_of_a_group_again(runtime_factory):
    """Each recovery run enters the failed group again whole; b, which completed in the first
    run, is called once over all of them while c fails in every one."""
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": echo(calls, "c", always_fail=True)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = {
        "id": "rec",
        "name": "Rec",
        "agents": ["a", "b", "c", "d"],
        "config": {
            "maxRetries": 0,
            "autoRecovery": True,
            "maxRecoveries": 2,
            "parallelGroups": [["b", "c"]],
        },
    }
    record = runtime.execute(compiled(definition, REGISTRY))
    assert (record["status"], record["recoveries"], len(record["runs"])) == ("failed", 2, 3)
    assert [calls.count(n) for n in ("a", "b", "c", "d")] == [1, 1, 3, 0]
    assert [h["agent"] for h in record["handoffs"]] == ["a", "b"]


def test_list_executions_by_status_and_tenant_with_pages(runtime_factory):
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    workflow = compiled({"id": "many", "name": "Many", "agents": ["a"]}, REGISTRY)
    ids = [runtime.execute(workflow, {"n": i}, tenant="acme")["executionId"] for i in range(3)]
    runtime.execute(workflow, tenant="other")
    first, token = runtime.services.lifecycle.list_executions("acme", limit=2)
    rest, end = runtime.services.lifecycle.list_executions("acme", limit=2, next_token=token)
    assert len(first) == 2 and len(rest) == 1 and end is None
    assert sorted(e["executionId"] for e in first + rest) == sorted(ids)
    completed, _ = runtime.services.lifecycle.list_executions("acme", status="completed")
    assert len(completed) == 3
    # a listing shows what the indexes hold of a record: its summary, not its input or output
    # (the indexes hold only that, so a write of anything else costs no index writes)
    assert all(set(e) == set(LISTED) - {"error"} for e in first + rest + completed)
    assert runtime.services.store.get("other", ids[0]) is None


def test_two_deliveries_of_a_runs_end_at_once_settle_it_once_without_failing(
    runtime_factory, monkeypatch
):
    """`baton serve` follows each run it starts to its end while a caller may settle the same
    execution: both deliver the run's end at once. The events handler refuses the second while
    the first holds the settlement (Lambda would retry it after); offline the second waits its
    turn, then finds the outcome applied."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    workflow = compiled({"id": "two", "name": "Two", "agents": ["a", "b"]}, REGISTRY)
    services = runtime.services
    record = services.stats.record
    inside = threading.Event()

    def slow_record(*args, **kwargs):  # the first delivery holds the settlement a while
        inside.set()
        time.sleep(0.3)
        return record(*args, **kwargs)

    monkeypatch.setattr(services.stats, "record", slow_record)
    runtime.deploy(workflow)
    started = services.lifecycle.start("two", {})
    outcomes: list[object] = []

    def settle():
        try:
            outcomes.append(services.settle("default", started["executionId"])["status"])
        except Exception as err:  # what the test reports
            outcomes.append(err)

    first = threading.Thread(target=settle)
    first.start()
    assert inside.wait(10)
    settle()
    first.join(10)
    assert outcomes == ["completed", "completed"]
    assert kinds(services.events()).count("Workflow Completed") == 1


def test_rolling_accuracy_is_updated_when_runs_end(runtime_factory):
    from baton_agent.settings import get_settings
    from baton_agent.stats import DynamoAccuracyStats

    accuracies = iter([90, 70, 95])
    lock = threading.Lock()

    @agent
    def varying(data, context):
        with lock:
            return AgentResult(data={}, accuracy=next(accuracies))

    reg = make_registry("a", "b")
    runtime = runtime_factory(reg, {"a": varying, "b": echo(Calls(), "b", accuracy=80)})
    workflow = compiled({"id": "acc", "name": "Acc", "agents": ["a", "b"]}, reg)
    for _ in range(3):
        runtime.execute(workflow)
    stats = DynamoAccuracyStats(get_settings().stats_table, runtime.dynamodb)
    assert stats.rolling_accuracy("a", ["acc"]) == 85
    assert stats.rolling_accuracy("b", ["acc"]) == 80
    # another workflow's runs of the same agent add to its rolling accuracy
    runtime.execute(compiled({"id": "other", "name": "Other", "agents": ["b"]}, reg))
    summary = stats.summaries(["a", "b"], ["acc", "other"])
    assert (summary["a"]["calls"], summary["b"]["calls"]) == (3, 4)
    assert stats.summaries(["b"], ["other"])["b"]["calls"] == 1


def test_a_refused_result_counts_at_once_in_its_workflows_statistics(runtime_factory):
    """The accuracy gate's refusals are counted as they happen, under the workflow that ran
    them (one item per workflow): the run fails, and each refused attempt is in the rolling
    accuracy; another workflow's item is untouched."""
    reg = make_registry("a", "b", a={"requiredAccuracy": 90})
    calls = Calls()
    runtime = runtime_factory(reg, {"a": echo(calls, "a", accuracy=80), "b": echo(Calls(), "b")})
    config = {"maxRetries": 1, "autoRecovery": False}
    definition = {"id": "gate", "name": "Gate", "agents": ["a"], "config": config}
    assert runtime.execute(compiled(definition, reg))["status"] == "failed"
    assert calls.count("a") == 2
    runtime.execute(compiled({"id": "fine", "name": "Fine", "agents": ["b"]}, reg))
    stats = runtime.services.stats
    assert stats.summaries(["a", "b"], ["gate"]) == {
        "a": {"calls": 2, "rollingAccuracy": 80.0, "lastAccuracy": 80.0}
    }
    assert stats.summaries(["a", "b"], ["fine"]) == {
        "b": {"calls": 1, "rollingAccuracy": 100.0, "lastAccuracy": 100.0}
    }


def test_resume_works_after_the_definition_changed_while_the_remaining_steps_exist(runtime_factory):
    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    failed = runtime.execute(compiled(five_steps(maxRetries=0), REGISTRY))
    assert failed["status"] == "failed"
    # the new definition drops step e and adds retries; "after b" still exists
    changed = {**five_steps(maxRetries=2), "agents": ["a", "b", "c", "d"]}
    runtime.deploy(compiled(changed, REGISTRY))
    broken["c"] = False
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])
    assert done["status"] == "completed"
    assert [calls.count(n) for n in NAMES] == [1, 1, 2, 1, 0]


def test_resume_is_refused_when_the_definition_lost_the_checkpointed_step(runtime_factory):
    from baton_service.exceptions import ResumePointMissingError

    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    failed = runtime.execute(compiled(five_steps(maxRetries=0), REGISTRY))
    runtime.deploy(compiled({**five_steps(), "agents": ["a", "c", "d"]}, REGISTRY))
    with pytest.raises(ResumePointMissingError, match="its checkpoint follows step 'b'"):
        runtime.services.lifecycle.resume("default", failed["executionId"])
    assert runtime.services.store.get("default", failed["executionId"])["status"] == "failed"


def test_a_running_execution_cannot_be_resumed(runtime_factory):
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n, sleep=0.2) for n in NAMES})
    started = runtime.execute(compiled(five_steps(), REGISTRY), settle=False)
    with pytest.raises(InvalidTransitionError, match=r"cannot resume execution .*: it is running"):
        runtime.services.lifecycle.resume("default", started["executionId"])
    assert runtime.services.settle("default", started["executionId"])["status"] == "completed"


def test_failures_are_notified_on_the_topic(runtime_factory):
    broken = {"c": True}
    calls = Calls()
    runtime = runtime_factory(
        REGISTRY, {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    )
    failed = runtime.execute(compiled(five_steps(maxRetries=0), REGISTRY))
    [notification] = runtime.services.notifications()
    assert notification["Subject"] == "Workflow Failed"
    assert notification["Message"] == (
        f"Workflow Failed: Five [{failed['executionId']}] is failed: AgentError: c is broken"
    )


def test_a_run_that_cannot_start_leaves_a_failed_record(runtime_factory):
    from baton_service.catalog import WorkflowInfo
    from baton_service.exceptions import LifecycleError

    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:baton-gone"
    runtime.services.catalog.register(WorkflowInfo("gone", "Gone", missing, 86_400))
    with pytest.raises(LifecycleError, match="could not start a run of gone"):
        runtime.services.lifecycle.start("gone", {"x": 1})
    [record], _ = runtime.services.lifecycle.list_executions("default", workflow_id="gone")
    assert record["status"] == "failed"
    assert record["error"]["errorType"] == "StartFailed"


def test_failure_triggers_and_unknown_trigger_targets(runtime_factory):
    calls, broken = Calls(), {"b": True}
    runtime = runtime_factory(
        REGISTRY, {n: echo(calls, n) for n in NAMES} | {"b": breakable(calls, "b", broken)}
    )
    on_failure = compiled({"id": "alarm", "name": "Alarm", "agents": ["e"]}, REGISTRY)
    runtime.deploy(on_failure)
    definition = {
        "id": "fragile",
        "name": "Fragile",
        "agents": ["a", "b"],
        "config": {"maxRetries": 0, "autoRecovery": False},
        "triggers": [
            {"on": "failed", "workflow": "alarm"},
            {"on": "failed", "workflow": "nowhere"},
        ],
    }
    failed = runtime.execute(compiled(definition, REGISTRY))
    assert failed["status"] == "failed"
    [listed], _ = runtime.services.lifecycle.list_executions("default", workflow_id="alarm")
    alarm = runtime.services.lifecycle.get("default", listed["executionId"])
    assert alarm["input"]["failedExecutionId"] == failed["executionId"]
    assert alarm["input"]["error"]["agentName"] == "b"
    trigger_failures = [
        e["detail"] for e in runtime.services.events() if e["detail-type"] == "Trigger Failed"
    ]
    assert [t["workflow"] for t in trigger_failures] == ["nowhere"]


def test_every_item_of_an_execution_expires_after_the_workflow_retention(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", always_fail=True)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = five_steps(maxRetries=0, retention="2d")
    definition["fallbacks"] = {"b": {"strategy": "skip"}}  # its handoff is written by the ASL
    workflow = compiled(definition, REGISTRY)
    before = time.time()
    done = runtime.execute(workflow, {"x": 1}, idempotency_key="key-1")
    after = time.time()
    assert done["status"] == "completed"

    table = runtime.manifest.tables["executions"].name
    items = runtime.dynamodb.scan(TableName=table)["Items"]
    kinds_of = {item["sk"]["S"].split("#")[0] for item in items}
    # the claim's sk is RECORD too; the output is kept apart (OUTPUT#<run>); b's failed
    # attempt is recorded (FAILURE#), for when the run's history cannot be read
    assert kinds_of == {"RECORD", "HANDOFF", "CHECKPOINT", "OUTPUT", "FAILURE"}
    assert any(item["pk"]["S"].startswith("IDEMPOTENCY#") for item in items)
    assert len([i for i in items if i["sk"]["S"].startswith("HANDOFF")]) == 5
    retention = 2 * 86_400
    for item in items:
        expires = int(item["expiresAt"]["N"])
        assert before + retention - 1 <= expires <= after + retention + 1, item["sk"]["S"]


def test_a_failure_reported_after_a_cancel_keeps_it_cancelled_and_announces_it_once(
    runtime_factory,
):
    """moto (and a late event in AWS) may report a stopped run FAILED: the record stays
    cancelled, the cancellation is announced once however often the events come, and
    auto-recovery does not resurrect it."""
    calls = Calls()
    handlers = {n: echo(calls, n, sleep=0.5 if n == "a" else 0) for n in NAMES}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled({**five_steps(), "config": {"autoRecovery": True}}, REGISTRY)
    started = runtime.execute(workflow, {}, settle=False)
    runtime.services.lifecycle.cancel("default", started["executionId"])
    run = started["currentRun"]
    runtime.wait(run)
    event = runtime.services.status_change_event(run)
    failed = {**event, "detail": {**event["detail"], "status": "FAILED", "error": "X"}}
    aborted = {**event, "detail": {**event["detail"], "status": "ABORTED"}}
    outcomes = [runtime.services.handler.handle(e) for e in (failed, aborted, failed)]
    assert len([o for o in outcomes if o == {"status": "cancelled"}]) <= 1
    assert outcomes[-1] == {"ignored": "this run's outcome was applied already"}
    runtime.services.settle("default", started["executionId"])
    record = runtime.services.lifecycle.get("default", started["executionId"])
    assert record["status"] == "cancelled" and len(record["runs"]) == 1
    assert record["recoveries"] == 0 and calls.count("b") == 0
    published = kinds(runtime.services.events())
    assert published.count("Workflow Cancelled") == 1 and "Workflow Failed" not in published


def test_a_status_event_without_input_or_output_finds_its_run_by_arn(runtime_factory):
    """EventBridge drops detail.input and detail.output over 248 KB: the handler reads the run
    by its ARN and keeps the record complete."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    workflow = compiled(five_steps(), REGISTRY)
    started = runtime.execute(workflow, {"big": "x" * 1000}, settle=False)
    run = started["currentRun"]
    runtime.wait(run)
    event = runtime.services.status_change_event(run)
    stripped = {
        **event,
        "detail": {
            **event["detail"],
            "input": None,
            "inputDetails": {"included": False},
            "output": None,
            "outputDetails": {"included": False},
        },
    }
    assert runtime.services.handler.handle(stripped) == {"status": "completed", "triggered": []}
    record = runtime.services.lifecycle.get("default", started["executionId"])
    assert record["status"] == "completed"
    assert record["output"]["big"] == "x" * 1000 and record["output"]["trail"] == list(NAMES)
    # an event of a run that is not Baton's (another name) changes nothing
    foreign = {**stripped, "detail": {**stripped["detail"], "name": "someone-else-1"}}
    assert runtime.services.handler.handle(foreign) == {"ignored": "not a Baton run"}


def test_a_self_triggering_workflow_stops_at_the_chain_depth_bound(runtime_factory):
    """A cycle that escaped validation (deployed by hand) chains at most MAX_TRIGGER_DEPTH
    executions after the first, then says why it stopped."""
    from baton_service.events import MAX_TRIGGER_DEPTH

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    loop = compiled(
        {
            "id": "loop",
            "name": "Loop",
            "agents": ["a"],
            "triggers": [{"on": "completed", "workflow": "loop"}],
            "config": {"autoRecovery": False},
        },
        REGISTRY,
    )
    runtime.execute(loop, {})
    # deliver each chained run's events, as EventBridge would
    for _ in range(3 * MAX_TRIGGER_DEPTH):
        executions, _ = runtime.services.lifecycle.list_executions(
            "default", workflow_id="loop", limit=100
        )
        running = [e["executionId"] for e in executions if e["status"] == "running"]
        if not running:
            break
        for execution_id in running:
            runtime.services.settle("default", execution_id)
    executions, _ = runtime.services.lifecycle.list_executions(
        "default", workflow_id="loop", limit=100
    )
    assert len(executions) == MAX_TRIGGER_DEPTH + 1
    assert all(e["status"] == "completed" for e in executions)
    assert calls.count("a") == MAX_TRIGGER_DEPTH + 1
    failures = [e for e in runtime.services.events() if e["detail-type"] == "Trigger Failed"]
    assert len(failures) == 1
    assert "the chain of triggers is 10 executions deep" in failures[0]["detail"]["reason"]


def test_a_replayed_success_starts_the_dependent_workflow_once(runtime_factory):
    runtime, upstream = up_and_down(runtime_factory)
    done = runtime.execute(upstream, {})
    event = runtime.services.status_change_event(done["currentRun"])
    again = runtime.services.handler.handle(event)  # EventBridge delivers at least once
    assert again == {"ignored": "this run's outcome was applied already"}
    started, _ = runtime.services.lifecycle.list_executions("default", workflow_id="down")
    assert len(started) == 1
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert kinds.count("Workflow Completed") == 1


def recovering(**config):
    """Five steps, auto-recovery on (the default) with room for several recoveries."""
    return {
        "id": "rec",
        "name": "Rec",
        "agents": list(NAMES),
        "config": {"maxRecoveries": 3, **config},
    }


def test_an_aborting_agent_is_called_once_and_never_recovered(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", always_fail=True)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = {**recovering(), "fallbacks": {"b": {"strategy": "abort"}}}
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "failed"
    assert calls.count("b") == 1 and len(record["runs"]) == 1
    assert record["recoveries"] == 0


def test_an_input_error_is_never_recovered(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {
        "b": echo(calls, "b", always_fail=True, error=AgentInputError)
    }
    runtime = runtime_factory(REGISTRY, handlers)
    record = runtime.execute(compiled(recovering(), REGISTRY))
    assert record["status"] == "failed" and record["error"]["errorType"] == "AgentInputError"
    assert calls.count("b") == 1 and len(record["runs"]) == 1


def test_a_timed_out_workflow_is_not_resumed_with_a_fresh_timeout(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", sleep=2.5)}
    runtime = runtime_factory(REGISTRY, handlers)
    started = time.monotonic()
    record = runtime.execute(compiled(recovering(timeout="1s"), REGISTRY))
    assert record["status"] == "failed" and record["error"]["errorType"] == "States.Timeout"
    assert len(record["runs"]) == 1 and record["recoveries"] == 0
    assert calls.count("c") == 0  # nothing after the timeout ran, in this run or another
    assert time.monotonic() - started < 5


def test_recovery_stops_when_the_time_budget_of_all_runs_is_spent(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {
        "b": echo(calls, "b", sleep=1.8, always_fail=True)
    }
    runtime = runtime_factory(REGISTRY, handlers)
    definition = recovering(timeout="6s", maxRetries=0, backoff={"interval": "1s", "rate": 4})
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "failed" and record["error"]["errorType"] == "AgentError"
    # run 1 fails at ~1.8 s: recovered after a 1 s backoff (budget left, 3 s to spare for a
    # loaded machine); run 2 fails at 3.6 s at the earliest, and its 4 s backoff would pass the
    # 6 s budget
    assert len(record["runs"]) == 2 and record["recoveries"] == 1
    assert calls.count("b") == 2


def test_the_start_announces_its_run_and_a_running_event_changes_nothing(runtime_factory):
    """The lifecycle that starts a run announces it ("Workflow Started", with the run's
    number); the stack routes no RUNNING event, and one delivered anyway (early, late or
    replayed) publishes and changes nothing."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    done = runtime.execute(compiled(five_steps(), REGISTRY), {})
    published = runtime.services.events()
    assert [e["detail-type"] for e in published].count("Workflow Started") == 1
    assert published[0]["detail-type"] == "Workflow Started"
    assert published[0]["detail"] == {
        "executionId": done["executionId"],
        "tenant": "default",
        "workflowId": "five",
        "run": 1,
    }
    assert published[-1]["detail-type"] == "Workflow Completed"
    running = runtime.services.status_change_event(done["currentRun"])
    running = {**running, "detail": {**running["detail"], "status": "RUNNING"}}
    for _ in range(2):
        assert runtime.services.handler.handle(running) == {
            "ignored": "a run's start is announced by the lifecycle that starts it"
        }
    assert runtime.services.events() == []
    assert runtime.services.lifecycle.get("default", done["executionId"])["status"] == "completed"


def test_a_run_is_announced_before_its_end_is_delivered(runtime_factory):
    """A run that ends before any status event is delivered was announced when it started."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    started = runtime.execute(compiled(five_steps(), REGISTRY), {}, settle=False)
    assert runtime.wait(started["currentRun"])["status"] == "SUCCEEDED"  # nothing delivered yet
    assert kinds(runtime.services.events()) == ["Workflow Started"]
    done = runtime.services.settle("default", started["executionId"])
    assert done["status"] == "completed"
    after = kinds(runtime.services.events())
    assert "Workflow Started" not in after and after[-1] == "Workflow Completed"


def test_a_start_whose_announcement_fails_still_starts_the_run(runtime_factory, monkeypatch):
    """EventBridge refusing "Workflow Started" does not fail the start: the run is running; the
    refusal is logged with its cause, and the run's end is published as usual."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    lifecycle = runtime.services.lifecycle
    warnings: list[tuple[str, BaseException | None]] = []

    def warning(message, exc_info=False):
        warnings.append((message, sys.exc_info()[1] if exc_info else None))

    monkeypatch.setattr(lifecycle_module.logger, "warning", warning)
    working = lifecycle.publisher
    lifecycle.publisher = EventPublisher(Refusing(), working.bus, sleep=lambda _: None)
    try:
        started = runtime.execute(compiled(five_steps(), REGISTRY), {}, settle=False)
    finally:
        lifecycle.publisher = working  # the events handler publishes through it too
    done = runtime.services.settle("default", started["executionId"])
    assert done["status"] == "completed"
    [(message, cause)] = warnings
    assert message == "could not announce the run's start"
    assert str(cause) == (
        "EventBridge refused 1 event(s) (Workflow Started) 4 times: InternalFailure"
    )
    published = kinds(runtime.services.events())
    assert "Workflow Started" not in published and published[-1] == "Workflow Completed"


class Refusing:
    """An EventBridge client that refuses every entry (the request itself succeeds)."""

    def put_events(self, Entries):
        return {
            "FailedEntryCount": len(Entries),
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"} for _ in Entries],
        }


def test_a_success_beats_a_cancel_that_came_too_late_to_stop_it(runtime_factory):
    runtime, upstream = up_and_down(runtime_factory)
    started = runtime.execute(upstream, {}, settle=False)
    run = started["currentRun"]
    assert runtime.wait(run)["status"] == "SUCCEEDED"  # done, its event not yet delivered
    cancelled = runtime.services.lifecycle.cancel("default", started["executionId"])
    assert cancelled["status"] == "cancelled"  # what the caller is told at once
    runtime.services.deliver(run)  # then the run's real outcome arrives
    record = runtime.services.lifecycle.get("default", started["executionId"])
    assert record["status"] == "completed"
    where = {
        "Bucket": runtime.manifest.archive_bucket,
        "Key": f"default/up/{started['executionId']}.json",
    }
    archived = json.loads(runtime.services.s3.get_object(**where)["Body"].read())
    assert archived["status"] == "completed"
    downstream, _ = runtime.services.lifecycle.list_executions("default", workflow_id="down")
    assert len(downstream) == 1
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert kinds.count("Workflow Completed") == 1 and "Workflow Cancelled" not in kinds


def test_concurrent_duplicate_starts_get_one_execution(runtime_factory):
    from concurrent.futures import ThreadPoolExecutor

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    workflow = compiled(five_steps(), REGISTRY)
    runtime.deploy(workflow)

    def start(_):
        return runtime.services.lifecycle.start("five", {"order": 7}, idempotency_key="order-7")[
            "executionId"
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(start, range(8)))
    assert len(set(ids)) == 1  # every duplicate got the same execution, none an error
    record = runtime.services.settle("default", ids[0])
    assert record["status"] == "completed" and len(record["runs"]) == 1
    assert calls.count("a") == 1
    listed, _ = runtime.services.lifecycle.list_executions("default", workflow_id="five")
    assert len(listed) == 1


def test_an_idempotency_key_is_scoped_by_workflow(runtime_factory):
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    for definition in (five_steps(), {"id": "other", "name": "Other", "agents": ["a"]}):
        runtime.deploy(compiled(definition, REGISTRY))
    lifecycle = runtime.services.lifecycle
    first = lifecycle.start("five", {"x": 1}, idempotency_key="k")
    other = lifecycle.start("other", {"x": 1}, idempotency_key="k")
    assert other["workflowId"] == "other" and other["executionId"] != first["executionId"]
    assert (
        lifecycle.start("five", {"x": 1}, idempotency_key="k")["executionId"]
        == first["executionId"]
    )


def test_a_failed_start_does_not_poison_its_idempotency_key(runtime_factory):
    from baton_service.catalog import WorkflowInfo
    from baton_service.exceptions import LifecycleError

    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    lifecycle = runtime.services.lifecycle
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:baton-five"
    runtime.services.catalog.register(WorkflowInfo("five", "Five", missing, 86_400))
    with pytest.raises(LifecycleError, match="could not start a run of five"):
        lifecycle.start("five", {"x": 1}, idempotency_key="retry-me")
    runtime.deploy(compiled(five_steps(), REGISTRY))  # the state machine exists now
    retried = lifecycle.start("five", {"x": 1}, idempotency_key="retry-me")
    assert retried["status"] in ("pending", "running")
    assert runtime.services.settle("default", retried["executionId"])["status"] == "completed"


def up_and_down(runtime_factory):
    """A runtime with `down` deployed and `up` (compiled) triggering it when it completes."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    runtime.deploy(compiled({"id": "down", "name": "Down", "agents": ["c"]}, REGISTRY))
    upstream = compiled(
        {
            "id": "up",
            "name": "Up",
            "agents": ["a"],
            "triggers": [{"on": "completed", "workflow": "down"}],
        },
        REGISTRY,
    )
    return runtime, upstream


def test_replayed_failure_and_cancel_events_take_effect_once(runtime_factory):
    """EventBridge delivers at least once: a FAILED event delivered three times counts the
    accuracy, notifies, publishes and starts the failure trigger once."""
    from baton_agent.settings import get_settings
    from baton_agent.stats import DynamoAccuracyStats

    calls, broken = Calls(), {"b": True}
    runtime = runtime_factory(
        REGISTRY, {n: echo(calls, n) for n in NAMES} | {"b": breakable(calls, "b", broken)}
    )
    runtime.deploy(compiled({"id": "alarm", "name": "Alarm", "agents": ["e"]}, REGISTRY))
    definition = {
        "id": "fragile",
        "name": "Fragile",
        "agents": ["a", "b"],
        "config": {"maxRetries": 0, "autoRecovery": False},
        "triggers": [{"on": "failed", "workflow": "alarm"}],
    }
    failed = runtime.execute(compiled(definition, REGISTRY))
    event = runtime.services.status_change_event(failed["currentRun"])
    assert event["detail"]["status"] == "FAILED"
    replays = [runtime.services.handler.handle(event) for _ in range(2)]
    assert replays == [{"ignored": "this run's outcome was applied already"}] * 2
    stats = DynamoAccuracyStats(get_settings().stats_table, runtime.dynamodb)
    assert stats.summaries(["a"], ["fragile"])["a"]["calls"] == 1
    assert [n["Subject"] for n in runtime.services.notifications()] == ["Workflow Failed"]
    alarms, _ = runtime.services.lifecycle.list_executions("default", workflow_id="alarm")
    assert len(alarms) == 1
    published = kinds(runtime.services.events())
    assert published.count("Workflow Failed") == 1 and published.count("Agent Failed") == 1


def test_a_replayed_aborted_event_announces_the_cancellation_once(runtime_factory):
    slow = {n: echo(Calls(), n, sleep=0.5 if n == "a" else 0) for n in NAMES}
    runtime = runtime_factory(REGISTRY, slow)
    started = runtime.execute(compiled(five_steps(), REGISTRY), {}, settle=False)
    # stopped while a runs (a stop racing the run's first states could end it FAILED in moto)
    wait_until(lambda: runtime.listener_seen("a"))
    runtime.services.lifecycle.cancel("default", started["executionId"])
    runtime.services.settle("default", started["executionId"])
    aborted = runtime.services.status_change_event(started["currentRun"])
    assert aborted["detail"]["status"] == "ABORTED"
    assert runtime.services.handler.handle(aborted) == {
        "ignored": "this run's outcome was applied already"
    }
    assert kinds(runtime.services.events()).count("Workflow Cancelled") == 1
    assert [n["Subject"] for n in runtime.services.notifications()] == ["Workflow Cancelled"]


def test_each_auto_recovery_waits_its_backoff_before_it_resumes(runtime_factory):
    """Recovery k waits interval × rate^(k-1) inside Step Functions (a Wait state), so a
    struggling dependency gets time to recover; offline the waits are recorded, not slept."""
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", fail_times=2)}
    runtime = runtime_factory(REGISTRY, handlers)
    definition = recovering(maxRetries=0, backoff={"interval": "3s", "rate": 2})
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "completed" and record["recoveries"] == 2
    waits = [runtime.waits.get(run, []) for run in record["runs"]]
    assert waits == [[], [("Recovery backoff", 3)], [("Recovery backoff", 6)]]
    assert [calls.count(n) for n in NAMES] == [1, 3, 1, 1, 1]


def test_a_recovery_backoff_is_really_waited_in_the_state_machine(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {"b": echo(calls, "b", fail_times=1)}
    runtime = runtime_factory(REGISTRY, handlers, real_waits=True)
    definition = recovering(maxRetries=0, backoff={"interval": "1s"})
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "completed" and len(record["runs"]) == 2
    history = runtime.history(record["runs"][1])
    entered = next(e for e in history if e["type"] == "WaitStateEntered")
    exited = next(e for e in history if e["type"] == "WaitStateExited")
    assert (exited["timestamp"] - entered["timestamp"]).total_seconds() >= 0.99
    first_b_of_run_two = calls.of("b")[1]["started"]
    assert first_b_of_run_two - calls.of("b")[0]["ended"] >= 1.0


def test_a_resumed_run_stops_where_the_execution_budget_runs_out(runtime_factory):
    """The timeout is the execution's budget across its runs: a recovered run gets what is
    left, not a fresh timeout. Run 1 fails at ~1 s; run 2 finishes b at ~2 s and c at ~4.2 s,
    past the 4 s budget: d never starts, and nothing is recovered again."""
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {
        "b": echo(calls, "b", sleep=1.0, fail_times=1),
        "c": echo(calls, "c", sleep=2.2),
    }
    runtime = runtime_factory(REGISTRY, handlers)
    definition = recovering(timeout="4s", maxRetries=0, backoff={"interval": "1s"})
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "failed" and record["error"]["errorType"] == "BudgetSpentError"
    assert "time budget" in record["error"]["message"]
    assert len(record["runs"]) == 2 and record["recoveries"] == 1
    assert [calls.count(n) for n in NAMES] == [1, 2, 1, 0, 0]
    published = kinds(runtime.services.events())
    assert published.count("Workflow Failed") == 2
    assert published.count("Agent Failed") == 1  # b in run 1; d never ran


def test_a_late_event_of_an_earlier_run_changes_nothing(runtime_factory):
    """Out of order: run 1's FAILED event arrives again after a resume made run 2
    the current run, which has completed: the record stays completed, nothing is published."""
    calls, broken = Calls(), {"c": True}
    handlers = {n: echo(calls, n) for n in NAMES} | {"c": breakable(calls, "c", broken)}
    runtime = runtime_factory(REGISTRY, handlers)
    failed = runtime.execute(compiled(five_steps(maxRetries=0), REGISTRY))
    assert failed["status"] == "failed"
    first_run = failed["currentRun"]
    broken["c"] = False
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])
    assert done["status"] == "completed" and len(done["runs"]) == 2
    runtime.services.events()  # drain what was published and notified so far
    assert len(runtime.services.notifications()) == 2  # run 1 failed, run 2 completed
    stale = runtime.services.status_change_event(first_run)
    assert stale["detail"]["status"] == "FAILED"
    assert runtime.services.handler.handle(stale) == {"ignored": "not the current run"}
    after = runtime.services.lifecycle.get("default", failed["executionId"])
    assert after["status"] == "completed" and after["output"] == done["output"]
    assert runtime.services.events() == [] and runtime.services.notifications() == []
    assert [calls.count(n) for n in NAMES] == [1, 1, 2, 1, 1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lc: lc.start("five", {}, tenant=""), "tenant: '' is not a tenant name"),
        (lambda lc: lc.start("five", {}, tenant="acme#corp"), "tenant: 'acme#corp' is not"),
        (lambda lc: lc.start("five", {}, tenant="ACME"), "tenant: 'ACME' is not a tenant name"),
        (lambda lc: lc.start("five", {}, tenant="a" * 64), f"tenant: '{'a' * 64}' is not"),
        (lambda lc: lc.get("acme#corp", "exec_1_abcdefghi"), "tenant: 'acme#corp' is not"),
        (lambda lc: lc.get("acme", "corp#exec_1_abcdefghi"), "executionId: 'corp#exec_1_ab"),
        (lambda lc: lc.cancel("acme", "../x"), "executionId: '../x' is not an execution id"),
        (lambda lc: lc.list_executions("acme#corp"), "tenant: 'acme#corp' is not"),
        (lambda lc: lc.list_executions("acme", limit=0), "limit: 0 is not a page size: 1 to 100"),
        (lambda lc: lc.list_executions("acme", limit=10**9), "limit: 1000000000 is not a"),
        (lambda lc: lc.list_executions("acme", limit=-5), "limit: -5 is not a page size"),
        (
            lambda lc: lc.start("five", {}, tenant="acme", idempotency_key="k#1"),
            "idempotencyKey: 'k#1' is not an idempotency key",
        ),
        (
            lambda lc: lc.start("five", {}, tenant="acme", idempotency_key=""),
            "idempotencyKey: '' is not an idempotency key",
        ),
        (lambda lc: lc.start("five", [1, 2]), "input: must be a JSON object, not an array"),
        (lambda lc: lc.start("five", "text"), "input: must be a JSON object, not a string"),
        (lambda lc: lc.start("five", {"x": float("nan")}), "input.x: is nan: JSON numbers"),
        (lambda lc: lc.start("five", {"x": [float("inf")]}), "input.x[0]: is inf"),
        (lambda lc: lc.start("five", {"x": {1, 2}}), "input.x: is a set, not a JSON value"),
        (
            lambda lc: lc.start("five", {f"k{i}": "é" * 400 for i in range(400)}),
            "input: the input is 323,891 bytes with every value of 1,024 bytes or more in S3",
        ),
    ],
)
def test_every_bad_value_is_refused_before_anything_is_written(runtime_factory, call, message):
    from baton_service.exceptions import InvalidInputError

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    runtime.deploy(compiled(five_steps(), REGISTRY))
    with pytest.raises(InvalidInputError) as caught:
        call(runtime.services.lifecycle)
    assert str(caught.value).startswith(message)
    assert calls.log == []
    items = runtime.dynamodb.scan(TableName=runtime.manifest.tables["executions"].name)["Items"]
    assert items == []  # no record, no claim: nothing to clean up


def test_a_condition_that_throws_fails_the_run_naming_the_condition_and_is_not_recovered(
    runtime_factory,
):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    definition = {
        "id": "throws",
        "name": "Throws",
        "agents": ["a", "b", "c"],
        "initialData": {"price": 5},
        "conditions": [
            {"after": "a", "name": "price check", "when": "price + 'a' > 1", "then": ["b"]}
        ],
    }
    record = runtime.execute(compiled(definition, REGISTRY))  # auto-recovery on (the default)
    assert record["status"] == "failed"
    assert record["error"]["step"] == "If price check"
    # as AWS reports it: the state named in the cause, JSONata's code and wording
    assert record["error"]["errorType"] == "States.QueryEvaluationError"
    assert "executing the state 'If price check'" in record["error"]["message"]
    assert 'T2002: The right side of the "+" operator' in record["error"]["message"]
    assert len(record["runs"]) == 1 and record["recoveries"] == 0
    assert calls.agents() == ["a"]


def _throttled_history(runtime, monkeypatch, code: str = "ThrottlingException") -> list[str]:
    """The events handler's GetExecutionHistory answers `code` every time (botocore's retries
    spent); its other Step Functions calls go through. The ARNs it was asked for."""
    asked: list[str] = []
    sfn = runtime.services.handler.sfn

    class Throttled:
        def __getattr__(self, name):
            return getattr(sfn, name)

        def get_execution_history(self, **request):
            asked.append(request["executionArn"])
            error = {"Error": {"Code": code, "Message": "Rate exceeded"}}
            raise ClientError(error, "GetExecutionHistory")

    monkeypatch.setattr(runtime.services.handler, "sfn", Throttled())
    return asked


def test_a_run_whose_history_is_throttled_is_settled_from_its_agents_records(
    runtime_factory, monkeypatch
):
    """GetExecutionHistory refills 5 requests a second per account: when a burst of runs ends
    (a schedule firing for every tenant) and botocore's retries are spent, the run is settled
    at once from what its agents recorded (handoffs, failed attempts), its transitions not
    known, instead of its delivery failing into Lambda's retries and the DLQ while the record
    says running. Any other error still fails the delivery."""
    calls, down = Calls(), {"c": False}

    @agent
    def flaky(data, context):  # every run: the first attempt fails, the retry succeeds
        calls.add(agent="b", attempt=context.attempt)
        if context.attempt == 1:
            raise AgentError("b is flaky")
        return AgentResult(data={"b": context.attempt})

    handlers = {n: echo(calls, n) for n in NAMES} | {"b": flaky}
    handlers["c"] = breakable(calls, "c", down)
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(five_steps(maxRetries=1), REGISTRY)
    read = runtime.execute(workflow, {"x": 1})
    assert read["status"] == "completed"
    assert read["metrics"]["failedHandoffs"] == 1
    assert read["metrics"]["stateTransitions"] > 5

    asked = _throttled_history(runtime, monkeypatch)
    settled = runtime.execute(workflow, {"x": 2})
    assert asked == [settled["currentRun"]]
    assert settled["status"] == "completed" and settled["output"]["b"] == 2
    assert [h["agent"] for h in settled["handoffs"]] == list(NAMES)
    metrics = settled["metrics"]
    assert (metrics["successfulHandoffs"], metrics["failedHandoffs"]) == (5, 1)
    assert metrics["stateTransitions"] is None  # not known without the history
    completed = [e for e in runtime.services.events() if e["detail-type"] == "Workflow Completed"]
    assert len(completed) == 2

    down["c"] = True
    failed = runtime.execute(workflow, {"x": 3})  # b recovers, c fails both its attempts
    assert failed["status"] == "failed"
    error = failed["error"]
    assert (error["agentName"], error["errorType"], error["message"]) == (
        "c",
        "AgentError",
        "c is broken",
    )
    assert error["retryCount"] == 1 and failed["metrics"]["failedHandoffs"] == 3

    _throttled_history(runtime, monkeypatch, code="AccessDeniedException")
    started = runtime.execute(workflow, {"x": 4}, settle=False)
    runtime.wait(started["currentRun"])
    with pytest.raises(ClientError, match="AccessDeniedException"):
        runtime.services.settle("default", started["executionId"])
