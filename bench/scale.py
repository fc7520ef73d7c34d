"""Offline scale: N concurrent executions through the lifecycle and the agent runtime.

Each execution runs a 3-step workflow of agents wrapped by the agent runtime (handoffs,
checkpoints, records). Started together, then settled; timed from the first start to the
last record. Targets (issue 10): 80 executions take at most 4.4x the time of 20, and 200 at
most 4.4x the time of 50, measured in the same run.

Each pair is timed back to back in every round, in turn (the smaller first in even rounds, the
larger first in odd ones), and the figure is the median of the rounds' ratios: a round takes
about 20 s, over which this machine's speed drifts by a fifth, and the emulated AWS keeps
every execution (as AWS does), so a full garbage collection (140-300 ms, growing with what is
kept) lands in whichever batch reaches it. The ratio of the medians is printed beside it.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench.common import ROUNDS, Result, ratio_result, registry, report, spread, workflow


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


PAIRS = ((20, 80), (50, 200))


def main(rounds: int = ROUNDS) -> bool:
    from baton.local.runtime import LocalRuntime

    reg = registry(3)
    compiled = workflow(reg, 3)
    handlers = {a.name: _agent() for a in reg}
    times: dict[int, list[float]] = {n: [] for pair in PAIRS for n in pair}
    with LocalRuntime(reg, handlers=handlers) as runtime:
        runtime.deploy(compiled)
        _batch(runtime, compiled.workflow.id, 5)  # deployment and imports, not timed
        for round_number in range(rounds):
            for pair in PAIRS:
                for n in pair if round_number % 2 == 0 else reversed(pair):
                    times[n].append(_batch(runtime, compiled.workflow.id, n))
    for pair in PAIRS:
        for n in pair:
            print(f"  {n:>4} executions: {spread(times[n], 1, 's')}")

    def result(small: int, large: int) -> Result:
        ratios = [big / little for little, big in zip(times[small], times[large], strict=True)]
        of_medians = statistics.median(times[large]) / statistics.median(times[small])
        how = (
            f"{rounds} rounds, each pair back to back; round ratios "
            f"{', '.join(f'{r:.2f}' for r in ratios)} (ratio of medians {of_medians:.2f}); "
            f"{large}: {spread(times[large], 1, 's')}; {small}: {spread(times[small], 1, 's')}"
        )
        return ratio_result(f"{large} / {small} executions", statistics.median(ratios), 4.4, how)

    return report("offline scale (lifecycle + agent runtime)", [result(*pair) for pair in PAIRS])


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
