"""pool.max caps an agent's concurrent invocations; the excess is throttled and retried."""

from __future__ import annotations

import threading
import time

from baton_agent import AgentResult, agent
from tests.conftest import compiled, make_registry


def test_pool_max_throttles_the_excess_and_the_retrier_retries_it(runtime_factory):
    lock = threading.Lock()
    state = {"running": 0, "peak": 0, "calls": 0}

    @agent
    def busy(data, context):
        with lock:
            state["running"] += 1
            state["calls"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(0.3)
        with lock:
            state["running"] -= 1
        return AgentResult(data={"done": data["n"]})

    reg = make_registry("a", a={"pool": {"max": 1}})
    runtime = runtime_factory(reg, {"a": busy})
    workflow = compiled({"id": "pool", "name": "Pool", "agents": ["a"]}, reg)
    arns = [runtime.start(workflow, {"n": n}) for n in range(3)]
    for arn in arns:
        runtime.wait(arn)
    records = [runtime.record(workflow, arn) for arn in arns]

    assert [r.status for r in records] == ["completed"] * 3
    assert [r.output["done"] for r in records] == [0, 1, 2]
    assert state["peak"] == 1
    assert state["calls"] == 3
    throttled = [
        e
        for arn in arns
        for e in runtime.history(arn)
        if e["type"] == "TaskFailed"
        and e["taskFailedEventDetails"]["error"] == "Lambda.TooManyRequestsException"
    ]
    assert throttled, "no invocation was throttled"
    waits = [w for r in records for w in r.waits]
    assert waits and all(w.after_error == "Lambda.TooManyRequestsException" for w in waits)
