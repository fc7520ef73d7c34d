"""The agent runtime's costs, each against a baseline measured in the same run.

- cache: a 1-step workflow whose agent takes 0.5 s, run twice per round with a new input each
  round; the step's duration (TaskScheduled to TaskSucceeded in the history) on the cache hit
  against the miss. Target: ≥ 10× faster (medians).
- cold import: a fresh interpreter importing an agent handler module against one running
  `import boto3` (the floor of any Python Lambda using AWS), interpreter start subtracted.
  Target: ≤ 1.5× (medians).
- per-step overhead: a 20-step workflow of agents wrapped by the runtime (cache off, accuracy
  statistics on) against the same agents as bare handlers, offline; each runtime runs the
  workflow once before it is timed, so one-time set-up is not counted. Target: ≤ 1.5×.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from baton.definition.registry import AgentRegistry
from bench.common import (
    ROOT,
    ROUNDS,
    Result,
    interleaved,
    process_seconds,
    ratio_result,
    registry,
    report,
    spread,
    workflow,
)

FUNCTIONS = ROOT / "functions"


def _cold(statement: str) -> float:
    return process_seconds([sys.executable, "-c", statement], cwd=FUNCTIONS)


def cold_import() -> Result:
    samples = interleaved(
        {
            "bare": lambda: _cold("pass"),
            "boto3": lambda: _cold("import boto3"),
            "handler": lambda: _cold("import agents.login.handler"),
        },
        rounds=7,
    )
    bare = statistics.median(samples["bare"])
    boto3, handler = (statistics.median(samples[k]) - bare for k in ("boto3", "handler"))
    print(f"  cold import: boto3 {boto3 * 1000:.0f} ms, agent handler {handler * 1000:.0f} ms")
    ratio = handler / boto3
    return ratio_result(
        "cold import: handler / boto3",
        ratio,
        1.5,
        f"7 rounds; whole processes (start included): handler {spread(samples['handler'])}; "
        f"boto3 {spread(samples['boto3'])}; bare {spread(samples['bare'])}",
    )


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
    durations: dict[str, list[float]] = {"miss": [], "hit": []}
    with LocalRuntime(reg, handlers={"agent-1": slow}) as runtime:
        for n in range(ROUNDS):
            for label in ("miss", "hit"):  # the same new input twice: a miss, then its hit
                arn = runtime.start(compiled, {"q": n})
                runtime.wait(arn)
                durations[label].append(_step_seconds(runtime.history(arn)))
                assert runtime.record(compiled, arn).status == "completed"
    miss, hit = (statistics.median(durations[k]) for k in ("miss", "hit"))
    print(f"  cache: miss {spread(durations['miss'])}, hit {spread(durations['hit'])}")
    ratio = miss / max(hit, 0.001)
    return ratio_result(
        "cache: miss / hit (0.5 s agent)",
        ratio,
        10,
        f"{ROUNDS} rounds; miss {spread(durations['miss'])}; hit {spread(durations['hit'])}",
        at_least=True,
        digits=0,
    )


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
    for _ in range(ROUNDS):
        for label, handler in (("bare", bare), ("runtime", wrapped)):
            with LocalRuntime(reg, handlers={a.name: handler for a in reg}) as runtime:
                assert runtime.run(compiled).status == "completed"  # set-up: not timed
                started = time.perf_counter()
                record = runtime.run(compiled)
                timings[label].append((time.perf_counter() - started) / 20)
                assert record.status == "completed", record.error
    bare_step, runtime_step = (statistics.median(timings[k]) for k in ("bare", "runtime"))
    print(
        f"  per step: bare handler {spread(timings['bare'])}, agent runtime {spread(timings['runtime'])}"
    )
    ratio = runtime_step / bare_step
    return ratio_result(
        "per step: runtime / bare",
        ratio,
        1.5,
        f"{ROUNDS} rounds, 20 steps, each after one untimed run; runtime "
        f"{spread(timings['runtime'])}/step; bare {spread(timings['bare'])}/step",
    )


def main() -> bool:
    return report("agent runtime", [cache_hit(), cold_import(), step_overhead()])


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
