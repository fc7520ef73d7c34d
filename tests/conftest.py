"""Shared test helpers: fake AWS credentials, the shipped registry, small test registries."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATEMACHINES = ROOT / "statemachines"
sys.path.insert(0, str(ROOT / "functions"))

# Never reach real AWS: fake credentials before anything creates a client.
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_key] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

import logging  # noqa: E402

logging.getLogger("moto").setLevel(logging.CRITICAL)  # moto narrates every expected failure

from baton.compiler.asl import CompiledWorkflow, compile_workflow  # noqa: E402
from baton.definition.loader import load_registry  # noqa: E402
from baton.definition.registry import AgentRegistry  # noqa: E402
from baton.definition.resolved import ResolvedWorkflow  # noqa: E402
from baton.definition.source import parse_text  # noqa: E402
from baton.definition.validation import check_workflow  # noqa: E402


@pytest.fixture(scope="session")
def shipped_registry() -> AgentRegistry:
    return load_registry(STATEMACHINES / "agents.yaml")


def make_registry(*names: str, **overrides: dict[str, Any]) -> AgentRegistry:
    """A registry of test agents `names` (ids 1..n); `overrides[name]` sets fields of one agent."""
    agents = []
    for index, name in enumerate(names, start=1):
        spec: dict[str, Any] = {
            "id": index,
            "name": name,
            "handler": f"tests.agents.{name.replace('-', '_')}",
        }
        spec.update(overrides.get(name.replace("-", "_"), {}))
        agents.append(spec)
    return AgentRegistry.model_validate({"agents": agents})


def resolve(
    definition: dict[str, Any] | str, registry: AgentRegistry, file: str = "test.yaml"
) -> ResolvedWorkflow:
    """Validate a definition given as a dict or YAML text; fail the test on any problem."""
    if isinstance(definition, dict):
        import json

        text, file = json.dumps(definition), file.replace(".yaml", ".json")
    else:
        text = definition
    workflow, problems = check_workflow(parse_text(text, file), registry)
    assert not problems, "\n".join(map(str, problems))
    assert workflow is not None
    return workflow


def compiled(definition: dict[str, Any] | str, registry: AgentRegistry) -> CompiledWorkflow:
    return compile_workflow(resolve(definition, registry))


@pytest.fixture
def runtime_factory() -> Iterator[Callable[..., Any]]:
    """Open a LocalRuntime for the test; it is closed when the test ends."""
    from baton.local.runtime import LocalRuntime

    opened: list[LocalRuntime] = []

    def factory(
        registry: AgentRegistry, handlers: dict[str, Any] | None = None, **options: Any
    ) -> LocalRuntime:
        runtime = LocalRuntime(
            registry, handlers=handlers, functions_dir=ROOT / "functions", **options
        )
        runtime.__enter__()
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        runtime.__exit__(None, None, None)


@pytest.fixture
def demo_site():
    """The demo website on 127.0.0.1, for the real agents."""
    from baton.local.demo_site import DemoSite

    with DemoSite() as site:
        yield site
