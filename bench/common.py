"""Helpers shared by the benchmarks: synthetic registries and workflows, a result table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_key] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

from baton.compiler.asl import CompiledWorkflow, compile_workflow  # noqa: E402
from baton.definition.registry import AgentRegistry  # noqa: E402
from baton.definition.source import parse_text  # noqa: E402
from baton.definition.validation import check_workflow  # noqa: E402


def registry(count: int) -> AgentRegistry:
    return AgentRegistry.model_validate(
        {
            "agents": [
                {"id": i, "name": f"agent-{i}", "handler": "bench.noop"}
                for i in range(1, count + 1)
            ]
        }
    )


def workflow(reg: AgentRegistry, steps: int, **extra: Any) -> CompiledWorkflow:
    import json

    definition = {
        "id": f"bench-{steps}",
        "name": f"Bench {steps}",
        "agents": [a.name for a in reg][:steps],
        **extra,
    }
    resolved, problems = check_workflow(parse_text(json.dumps(definition), "bench.json"), reg)
    assert resolved is not None, problems
    return compile_workflow(resolved)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


ROUNDS = 5
"""Rounds of every timed measurement, interleaved: the machine's noise falls on all alike."""


def interleaved(
    measures: dict[str, Callable[[], float]], rounds: int = ROUNDS
) -> dict[str, list[float]]:
    """Each measure (returning seconds) once per round, in turn, for `rounds` rounds."""
    samples: dict[str, list[float]] = {label: [] for label in measures}
    for _ in range(rounds):
        for label, measure in measures.items():
            samples[label].append(measure())
    return samples


def process_seconds(
    command: list[str],
    *,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    quiet_errors: bool = False,
) -> float:
    """Wall time of a whole process, launch to exit; it must succeed, its output is dropped
    (and its error output too when `quiet_errors`)."""
    started = time.perf_counter()
    subprocess.run(
        command,
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet_errors else None,
    )
    return time.perf_counter() - started


def spread(samples: list[float], scale: float = 1000, unit: str = "ms") -> str:
    """`median X, min Y` of timings, in ms by default."""
    median = statistics.median(samples) * scale
    return f"median {median:.1f} {unit}, min {min(samples) * scale:.1f} {unit}"


@dataclass
class Result:
    name: str
    measured: str
    target: str
    ok: bool
    how: str = ""
    """What was measured and how often (rounds, median/min), for BENCHMARKS.md."""


def ratio_result(
    name: str, ratio: float, limit: float, how: str, *, at_least: bool = False, digits: int = 2
) -> Result:
    """A ratio against its bound: the target text and the check from one limit."""
    met = ratio >= limit if at_least else ratio <= limit
    target = f"{'≥' if at_least else '≤'} {limit:g}×"
    return Result(name, f"{ratio:.{digits}f}×", target, met, how)


RECORDED: list[tuple[str, list[Result]]] = []
"""Every report of this process, for BENCHMARKS.md."""


def report(title: str, results: list[Result]) -> bool:
    RECORDED.append((title, results))
    print(f"\n{title}")
    width = max(len(r.name) for r in results)
    for r in results:
        mark = "ok " if r.ok else "MISS"
        print(f"  [{mark}] {r.name:<{width}}  {r.measured:<28} target {r.target}")
        if r.how:
            print(f"         {'':<{width}}  {r.how}")
    return all(r.ok for r in results)


def machine() -> str:
    """The machine the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )
