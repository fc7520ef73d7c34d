"""Offline scale: N concurrent executions through the lifecycle and the agent runtime.

Each execution runs a 3-step workflow of agents wrapped by the agent runtime (handoffs,
checkpoints, records). Started together, then settled; timed from the first start to the
last record. Targets (issue 10): 80 executions take at most 4.4x the time of 20, and 200 at
most 4.4x the time of 50, measured in the same run (medians of the rounds).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench.common import ROUNDS, ratio_result, registry, report, spread, workflow

SIZES = (20, 80, 50, 200)


def _agent() -> Any:
    from baton_agent import AgentResult, agent

    @agent
    def step(data: dict[str, Any], context: Any) -> AgentResult:
        return AgentResult(data={context.agent: True})

    return step


def _batch(runtime: Any, workflow_id: str, count: int) -> float:
    lifecycle = runtime.services.lifecycle
    started = time.perf_counter()
    ids = [lifecycle.start(workflow_id, {"n": i})["executionId"] for i in range(count)]
    for execution_id in ids:
        record = runtime.services.settle("default", execution_id)
        assert record["status"] == "completed", record.get("error")
    return time.perf_counter() - started


def main(rounds: int = ROUNDS) -> bool:
    from baton.local.runtime import LocalRuntime

    reg = registry(3)
    compiled = workflow(reg, 3)
    handlers = {a.name: _agent() for a in reg}
    times: dict[int, list[float]] = {n: [] for n in SIZES}
    with LocalRuntime(reg, handlers=handlers) as runtime:
        runtime.deploy(compiled)
        _batch(runtime, compiled.workflow.id, 5)  # deployment and imports, not timed
        for _ in range(rounds):
            for n in SIZES:
                times[n].append(_batch(runtime, compiled.workflow.id, n))
    median = {n: statistics.median(t) for n, t in times.items()}
    for n in SIZES:
        print(f"  {n:>4} executions: {spread(times[n], 1, 's')}")
    r80, r200 = median[80] / median[20], median[200] / median[50]

    def how(large: int, small: int) -> str:
        return (
            f"{rounds} rounds; {large}: {spread(times[large], 1, 's')}; "
            f"{small}: {spread(times[small], 1, 's')}"
        )

    return report(
        "offline scale (lifecycle + agent runtime)",
        [
            ratio_result("80 / 20 executions", r80, 4.4, how(80, 20)),
            ratio_result("200 / 50 executions", r200, 4.4, how(200, 50)),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
