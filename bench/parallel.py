"""A 10-agent parallel group against the same 10 agents in sequence, offline on moto.

Each agent sleeps 0.2 s (an I/O-bound agent waiting on a page). Both state machines are deployed
first; then each execution is timed from start to record. Target: the group is at least 6×
faster than the sequence. The durations Step Functions itself reports are printed too.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Result, registry, report, workflow

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
        runtime.deploy(sequential)
        runtime.deploy(parallel)
        times = {}
        for label, compiled in (("sequence", sequential), ("parallel group", parallel)):
            started = time.perf_counter()
            record = runtime.run(compiled)
            times[label] = time.perf_counter() - started
            assert record.status == "completed", record.error
            reported = record.metrics.total_execution_time / 1000
            print(f"  {label:<15} {times[label]:.2f} s  (Step Functions duration {reported:.2f} s)")
    speedup = times["sequence"] / times["parallel group"]
    return report(
        "parallel group speed-up",
        [Result("10 agents: sequence / group", f"{speedup:.1f}×", "≥ 6×", speedup >= 6)],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
