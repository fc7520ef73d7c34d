"""Only the attempt Step Functions still waits for may write: a late attempt (past its Lambda
timeout) records nothing, and the offline dispatcher times functions out as Lambda does."""

from __future__ import annotations

import threading
import time

from baton_agent import AgentResult, agent
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a", "b", "c", b={"timeout": "1s"})


def test_a_late_attempt_writes_no_handoff_checkpoint_or_cache(runtime_factory):
    calls = Calls()
    late_attempt_done = threading.Event()

    @agent
    def slow_first(data, context):
        calls.add(agent="b", attempt=context.attempt)
        if context.attempt == 1:
            try:
                time.sleep(2.0)  # twice its 1 s timeout: Lambda has given up on it
                return AgentResult(data={"b": "late"})
            finally:
                late_attempt_done.set()
        return AgentResult(data={"b": "on time"})

    runtime = runtime_factory(
        REGISTRY, {"a": echo(calls, "a"), "b": slow_first, "c": echo(calls, "c")}
    )
    definition = {
        "id": "late",
        "name": "Late",
        "agents": ["a", "b", "c"],
        "config": {"maxRetries": 1},
    }
    started = time.monotonic()
    done = runtime.execute(compiled(definition, REGISTRY), {})
    assert done["status"] == "completed"
    # the retry came at the function's 1 s timeout, not at the Task's (1 + 15 s)
    assert time.monotonic() - started < 8.0
    assert done["output"]["b"] == "on time"
    history = runtime.history(done["currentRun"])
    failures = [e for e in history if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failures] == ["Sandbox.Timedout"]

    assert late_attempt_done.wait(5)
    time.sleep(0.2)  # let the late attempt try to write
    after = runtime.services.lifecycle.get("default", done["executionId"])
    steps = [(h["agent"], h["attempt"]) for h in after["handoffs"]]
    assert steps == [("a", 1), ("b", 2), ("c", 1)]  # no handoff from the late attempt
    assert after["checkpoint"]["after"] == "c"  # the checkpoint never moved back to b
    assert after["checkpoint"]["data"]["b"] == "on time"
    assert all(h["data"].get("b") != "late" for h in after["handoffs"])


def test_an_attempt_of_a_superseded_run_writes_nothing(runtime_factory, monkeypatch):
    """Cancel while b runs, resume at once: run 2 redoes b and finishes; run 1's b, finishing
    later, must neither add its handoff nor move the checkpoint back from c to b. (The
    lifecycle refuses such a resume while b may run, see test_lifecycle; the fence is what
    holds when a run is superseded anyway: an attempt past its deadline, an auto-recovery.)"""
    calls = Calls()
    old_attempt_done = threading.Event()

    @agent
    def slow_in_run_one(data, context):
        calls.add(agent="b", attempt=context.attempt)
        if context.run == 1:
            try:
                time.sleep(2.0)
                return AgentResult(data={"b": "from run 1"})
            finally:
                old_attempt_done.set()
        return AgentResult(data={"b": "from run 2"})

    registry = make_registry("a", "b", "c")
    runtime = runtime_factory(
        registry, {"a": echo(calls, "a"), "b": slow_in_run_one, "c": echo(calls, "c")}
    )
    definition = {"id": "superseded", "name": "Superseded", "agents": ["a", "b", "c"]}
    started = runtime.execute(compiled(definition, registry), {}, settle=False)
    lifecycle = runtime.services.lifecycle
    monkeypatch.setattr(lifecycle, "_refuse_while_finishing", lambda record: None)
    _wait_for(lambda: calls.count("b") == 1)
    lifecycle.cancel("default", started["executionId"])
    lifecycle.resume("default", started["executionId"])
    done = runtime.services.settle("default", started["executionId"])
    assert done["status"] == "completed" and done["output"]["b"] == "from run 2"

    assert old_attempt_done.wait(5)
    time.sleep(0.3)  # let run 1's attempt try to write
    after = lifecycle.get("default", started["executionId"])
    assert [(h["agent"], h["run"].rsplit("-", 1)[1]) for h in after["handoffs"]] == [
        ("a", "1"),
        ("b", "2"),
        ("c", "2"),
    ]
    assert after["checkpoint"]["after"] == "c"
    assert after["checkpoint"]["data"]["b"] == "from run 2"
    assert calls.count("a") == 1 and calls.count("c") == 1


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_the_step_log_refuses_other_runs_and_backward_checkpoints(runtime_factory):
    """The fence itself, as DynamoDB enforces it in the cloud: one transaction per step, with
    the record's current run and the checkpoint's position as conditions."""
    import pytest

    from baton_agent.errors import AttemptAbandonedError
    from baton_agent.records import DynamoExecutionLog, StepRecord
    from baton_agent.settings import get_settings

    registry = make_registry("a", "b", "c")
    runtime = runtime_factory(registry, {n: echo(Calls(), n) for n in ("a", "b", "c")})
    definition = {"id": "fenced", "name": "Fenced", "agents": ["a", "b", "c"]}
    done = runtime.execute(compiled(definition, registry), {})
    execution_id = done["executionId"]
    log = DynamoExecutionLog(get_settings().executions_table, runtime.dynamodb)
    lifecycle = runtime.services.lifecycle

    def step(run: int, position: int, *, checkpoint: str | None, when: str) -> StepRecord:
        handoff = {"agent": "x", "step": "x", "attempt": 1, "finishedAt": when, "data": {}}
        return StepRecord(
            "default", execution_id, handoff, checkpoint, {"x": when}, run=run, position=position
        )

    def stored() -> tuple[int, str]:
        record = lifecycle.get("default", execution_id)
        return len(record["handoffs"]), record["checkpoint"]["after"]

    assert stored() == (3, "c")
    with pytest.raises(AttemptAbandonedError, match="no longer the execution's current run"):
        log.step_finished(step(2, 9, checkpoint=None, when="2030-01-01"))  # a group member
    with pytest.raises(AttemptAbandonedError, match="a later step has been checkpointed"):
        log.step_finished(step(1, 0, checkpoint="a", when="2030-01-02"))
    assert stored() == (3, "c")  # nothing of either was written
    log.step_finished(step(1, 2, checkpoint="c", when="2030-01-03"))  # the same step again
    assert stored() == (4, "c")


def test_a_steps_write_never_checks_the_execution_record(runtime_factory):
    """Each agent invocation writes 2 items: its handoff, and the checkpoint (a step) or a check
    of the small FENCE item (a group member). Never a check of the record: DynamoDB bills a
    condition check at the checked item's size, and the record keeps the input inline (here
    40 KB: 80 write units at every step)."""
    from baton_agent import keys
    from baton_agent import runtime as agent_runtime

    registry = make_registry("a", "b", "c", "d")
    runtime = runtime_factory(registry, {n: echo(Calls(), n) for n in "abcd"})
    definition = {
        "id": "mixed",
        "name": "Mixed",
        "agents": ["a", "b", "c", "d"],
        "config": {"parallelGroups": [["b", "c"]]},
    }
    written: list[list[tuple[str, str]]] = []

    def capture(params, **_):
        written.append(
            [
                (kind, (op.get("Key") or op["Item"])["sk"]["S"])
                for item in params["TransactItems"]
                for kind, op in item.items()
            ]
        )

    client = agent_runtime._dynamodb()
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", capture)
    try:
        done = runtime.execute(compiled(definition, registry), {"blob": "x" * 40_000})
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", capture)
    assert done["status"] == "completed", done.get("error")
    assert len(written) == 4
    for transaction in written:
        assert len(transaction) == 2
        assert all(sk != keys.RECORD for _, sk in transaction)
    checks = sorted(t for t in written if t[0][0] == "ConditionCheck")
    assert [t[0] for t in checks] == [("ConditionCheck", keys.FENCE)] * 2  # b and c
    assert all(("Put", keys.CHECKPOINT) in t for t in written if t not in checks)  # a and d


def test_a_resume_moves_the_fence_so_the_earlier_runs_steps_and_members_write_nothing(
    runtime_factory,
):
    """Making run 2 current moves the fence with the record, in one transaction: after it, run
    1's step and group member are refused and run 2's are recorded. A resume before any
    checkpoint leaves the fence alone in the checkpoint's item: no checkpoint is read from it."""
    import pytest

    from baton_agent.errors import AttemptAbandonedError
    from baton_agent.records import DynamoExecutionLog, StepRecord
    from baton_agent.settings import get_settings

    registry = make_registry("a")
    runtime = runtime_factory(registry, {"a": echo(Calls(), "a")})
    done = runtime.execute(compiled({"id": "f", "name": "F", "agents": ["a"]}, registry), {})
    lifecycle = runtime.services.lifecycle
    store = lifecycle.store
    execution_id = done["executionId"]
    log = DynamoExecutionLog(get_settings().executions_table, runtime.dynamodb)

    def step(run: int, position: int, checkpoint: str | None, when: str) -> StepRecord:
        handoff = {"agent": "x", "step": when, "attempt": 1, "finishedAt": when, "data": {}}
        return StepRecord(
            "default", execution_id, handoff, checkpoint, {"x": when}, run=run, position=position
        )

    # a status the record is not in: nothing changes, the fence included
    assert not store.make_current(
        "default", execution_id, {"run": 2}, run=2, only_if_status=("paused",)
    )
    log.step_finished(step(1, 0, None, "2030-01-01"))  # run 1 still current: recorded
    assert store.make_current(
        "default", execution_id, {"run": 2}, run=2, only_if_status=("completed",)
    )
    for late in (step(1, 0, None, "2030-01-02"), step(1, 5, "a", "2030-01-03")):
        with pytest.raises(AttemptAbandonedError, match="no longer the execution's current run"):
            log.step_finished(late)
    log.step_finished(step(2, 0, None, "2030-01-04"))
    log.step_finished(step(2, 0, "a", "2030-01-05"))
    record = lifecycle.get("default", execution_id)
    assert [h["step"] for h in record["handoffs"]][1:] == ["2030-01-01", "2030-01-04", "2030-01-05"]
    assert record["checkpoint"] == {"after": "a", "data": {"x": "2030-01-05"}}

    fresh = runtime.execute(
        compiled({"id": "g", "name": "G", "agents": ["a"]}, registry), {}, settle=False
    )
    runtime.services.settle("default", fresh["executionId"])
    # the record says completed; make run 2 current before any checkpoint exists there
    store.client.delete_item(
        TableName=store.table,
        Key={"pk": {"S": f"EXEC#default#{fresh['executionId']}"}, "sk": {"S": "CHECKPOINT"}},
    )
    assert store.make_current(
        "default", fresh["executionId"], {"run": 2}, run=2, only_if_status=("completed",)
    )
    assert store.checkpoint("default", fresh["executionId"]) is None
    assert store.items("default", fresh["executionId"]).checkpoint is None


def test_a_functions_invocations_reuse_its_idle_threads_and_never_a_busy_one(runtime_factory):
    """A thread whose invocation returned runs the function's next invocation (as Lambda keeps
    an environment warm), never another function's; a timed-out invocation keeps its thread
    busy, so the retry runs in another; closing the runtime ends the idle threads."""
    ran: dict[str, list[int]] = {"a": [], "b": []}
    release, late_done = threading.Event(), threading.Event()

    def record(name):
        @agent
        def handler(data, context):
            ran[name].append(threading.get_ident())
            if name == "b" and context.attempt == 1 and not release.is_set():
                release.wait(10)  # past its 1 s timeout: Lambda gave up on it
                late_done.set()
            return AgentResult(data={name: True})

        return handler

    runtime = runtime_factory(
        REGISTRY, {"a": record("a"), "b": record("b"), "c": echo(Calls(), "c")}
    )
    workflow = compiled(
        {"id": "warm", "name": "Warm", "agents": ["a", "b", "c"], "config": {"maxRetries": 1}},
        REGISTRY,
    )
    assert runtime.execute(workflow, {})["status"] == "completed"
    first_b, retry_b = ran["b"]
    assert first_b != retry_b  # the timed-out attempt's thread was still busy
    release.set()
    assert late_done.wait(5)
    time.sleep(0.1)  # the late attempt's thread goes back to the idle ones
    assert runtime.execute(workflow, {})["status"] == "completed"
    assert ran["a"][0] == ran["a"][1]  # the same warm thread
    assert ran["b"][2] in (first_b, retry_b)
    assert not set(ran["a"]) & set(ran["b"])  # never another function's thread

    runtime.__exit__(None, None, None)
    ours = set(ran["a"] + ran["b"])

    def alive() -> list[str]:
        return [t.name for t in threading.enumerate() if t.ident in ours]

    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive() == []
