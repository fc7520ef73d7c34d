"""The agent runtime's costs, each against a baseline measured in the same run.

- cache: a 1-step workflow whose agent takes 0.5 s, run twice; the step's duration (TaskScheduled
  to TaskSucceeded in the history) on the cache hit against the miss. Target: ≥ 10× faster.
- cold import: a fresh interpreter importing an agent handler module against one running
  `import boto3` (the floor of any Python Lambda using AWS), interpreter start subtracted.
  Target: ≤ 1.5×.
- per-step overhead: a 20-step workflow of agents wrapped by the runtime (cache off, accuracy
  statistics on) against the same agents as bare handlers, offline. Target: ≤ 1.5×.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

from baton.definition.registry import AgentRegistry
from bench.common import ROOT, Result, registry, report, workflow

FUNCTIONS = str(ROOT / "functions")


def _cold(statement: str, repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=FUNCTIONS, check=True)
        runs.append(time.perf_counter() - started)
    return min(runs)


def cold_import() -> Result:
    bare = _cold("pass")
    boto3 = _cold("import boto3") - bare
    handler = _cold("import agents.login.handler") - bare
    print(f"  cold import: boto3 {boto3 * 1000:.0f} ms, agent handler {handler * 1000:.0f} ms")
    ratio = handler / boto3
    return Result("cold import: handler / boto3", f"{ratio:.2f}×", "≤ 1.5×", ratio <= 1.5)


def _step_seconds(events: list[dict[str, Any]]) -> float:
    scheduled = next(e["timestamp"] for e in events if e["type"] == "TaskScheduled")
    succeeded = next(e["timestamp"] for e in events if e["type"] == "TaskSucceeded")
    return (succeeded - scheduled).total_seconds()


def cache_hit() -> Result:
    from baton.local.runtime import LocalRuntime
    from baton_agent import AgentResult, agent

    @agent
    def slow(data: dict[str, Any], context: Any) -> AgentResult:
        time.sleep(0.5)
        return AgentResult(data={"answer": 42})

    reg = AgentRegistry.model_validate(
        {"agents": [{"id": 1, "name": "agent-1", "handler": "bench.slow", "cache": {"ttl": "1h"}}]}
    )
    compiled = workflow(reg, 1)
    with LocalRuntime(reg, handlers={"agent-1": slow}) as runtime:
        durations = []
        for _ in range(2):
            arn = runtime.start(compiled, {"q": 1})
            runtime.wait(arn)
            durations.append(_step_seconds(runtime.history(arn)))
            assert runtime.record(compiled, arn).status == "completed"
    miss, hit = durations
    print(f"  cache: miss {miss * 1000:.0f} ms, hit {hit * 1000:.1f} ms")
    ratio = miss / max(hit, 0.001)
    return Result("cache: miss / hit (0.5 s agent)", f"{ratio:.0f}×", "≥ 10×", ratio >= 10)


def step_overhead() -> Result:
    from baton.local.runtime import LocalRuntime
    from baton_agent import AgentResult, agent

    def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"data": {event["agent"]: True}, "accuracy": 100, "meta": {"agent": event["agent"]}}

    @agent
    def wrapped(data: dict[str, Any], context: Any) -> AgentResult:
        return AgentResult(data={context.agent: True})

    reg = registry(20)
    compiled = workflow(reg, 20)
    timings: dict[str, list[float]] = {"bare": [], "runtime": []}
    for _ in range(3):
        for label, handler in (("bare", bare), ("runtime", wrapped)):
            with LocalRuntime(reg, handlers={a.name: handler for a in reg}) as runtime:
                runtime.deploy(compiled)
                started = time.perf_counter()
                record = runtime.run(compiled)
                timings[label].append((time.perf_counter() - started) / 20)
                assert record.status == "completed", record.error
    bare_step, runtime_step = (statistics.median(timings[k]) for k in ("bare", "runtime"))
    print(
        f"  per step: bare handler {bare_step * 1000:.1f} ms, agent runtime {runtime_step * 1000:.1f} ms"
    )
    ratio = runtime_step / bare_step
    return Result("per step: runtime / bare", f"{ratio:.2f}×", "≤ 1.5×", ratio <= 1.5)


def main() -> bool:
    return report("agent runtime", [cache_hit(), cold_import(), step_overhead()])


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
