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
