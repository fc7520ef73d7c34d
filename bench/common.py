"""Helpers shared by the benchmarks: synthetic registries and workflows, a result table."""

from __future__ import annotations

import os
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


@dataclass
class Result:
    name: str
    measured: str
    target: str
    ok: bool


def report(title: str, results: list[Result]) -> bool:
    print(f"\n{title}")
    width = max(len(r.name) for r in results)
    for r in results:
        mark = "ok " if r.ok else "MISS"
        print(f"  [{mark}] {r.name:<{width}}  {r.measured:<28} target {r.target}")
    return all(r.ok for r in results)
