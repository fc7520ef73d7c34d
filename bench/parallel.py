"""A 10-agent parallel group against the same 10 agents in sequence, offline on moto.

Each agent sleeps 0.2 s (an I/O-bound agent waiting on a page). Both state machines are deployed
and run once first; then each execution is timed from start to record, in interleaved rounds.
Target: the group is at least 6× faster than the sequence (medians of the rounds).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.common import ROUNDS, interleaved, ratio_result, registry, report, spread, workflow

AGENT_SECONDS = 0.2


def sleeper(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(AGENT_SECONDS)
    return {"data": {event["agent"]: True}, "accuracy": 100, "meta": {"agent": event["agent"]}}


def main() -> bool:
    from baton.local.runtime import LocalRuntime

    reg = registry(10)
    names = [a.name for a in reg]
    sequential = workflow(reg, 10)
    parallel = workflow(reg, 10, config={"parallelGroups": [names]})
    with LocalRuntime(reg, handlers={n: sleeper for n in names}) as runtime:

        def timed(compiled: Any) -> float:
            started = time.perf_counter()
            record = runtime.run(compiled)
            assert record.status == "completed", record.error
            return time.perf_counter() - started

        for compiled in (sequential, parallel):
            timed(compiled)  # deployment and first-use set-up: not the steady state
        times = interleaved(
            {"sequence": lambda: timed(sequential), "parallel group": lambda: timed(parallel)}
        )
    for label, samples in times.items():
        print(f"  {label:<15} {spread(samples)}")
    speedup = statistics.median(times["sequence"]) / statistics.median(times["parallel group"])
    return report(
        "parallel group speed-up",
        [
            ratio_result(
                "10 agents: sequence / group",
                speedup,
                6,
                f"{ROUNDS} rounds; sequence {spread(times['sequence'])}; "
                f"group {spread(times['parallel group'])}",
                at_least=True,
                digits=1,
            )
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
