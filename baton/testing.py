"""pytest fixtures for agent and workflow authors (a pytest plugin: installed with Baton, it is
loaded by every pytest run in Baton's environment).

- `agent_kit`: a fresh `baton_agent.testing.AgentTestKit` per test: call an agent with a fake
  context and in-memory cache, secrets and stash, no moto.
- `run_workflow`: run a whole workflow offline (moto, the agents in-process, the demo site when
  the workflow points at it) and get its execution record, as `baton run` prints it.
- `registered_agent(name)`: an agent's registry entry and its imported handler.

The project is the folder pytest runs in (its `statemachines/agents.yaml`, which may extend
Baton's); its `functions/` folder is importable, as in Lambda.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from baton.lambda_code import use_functions

use_functions()  # the agent SDK (baton_agent) is importable in tests from here on

from baton_agent.testing import AgentTestKit  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    from baton.definition.registry import AgentRegistry, AgentSpec
    from baton.local.runtime import LocalRuntime
    from baton_service.record import ExecutionRecord


def registered_agent(
    name: str, registry: str | Path | None = None
) -> tuple[AgentSpec, Callable[..., dict[str, Any]]]:
    """The registry entry of agent `name` (from the project's registry, or `registry`) and its
    handler, imported as Lambda imports it."""
    from baton.definition.handlers import import_handler
    from baton.definition.loader import load_registry

    spec = load_registry(registry).get(name)
    return spec, import_handler(spec)


class OfflineWorkflows:
    """Runs workflows offline in one emulated AWS (started on the first run, closed after)."""

    def __init__(self, registry: AgentRegistry | None = None) -> None:
        self._registry = registry
        self._stack = ExitStack()
        self._runtime: LocalRuntime | None = None
        self._site: Any = None

    @property
    def registry(self) -> AgentRegistry:
        if self._registry is None:
            from baton.definition.loader import load_registry

            self._registry = load_registry()
        return self._registry

    def runtime(self) -> LocalRuntime:
        """The offline AWS, with the offline secrets of the project and the demo site."""
        if self._runtime is None:
            from baton.definition.loader import offline_secrets
            from baton.local.demo_site import DemoSite
            from baton.local.runtime import LocalRuntime

            self._site = self._stack.enter_context(DemoSite())
            self._runtime = self._stack.enter_context(LocalRuntime(self.registry))
            self._runtime.put_secrets(offline_secrets())
        return self._runtime

    def __call__(
        self,
        workflow: str | Path | Mapping[str, Any],
        input: Mapping[str, Any] | None = None,
        *,
        tenant: str = "default",
        no_cache: bool = False,
    ) -> ExecutionRecord:
        """Run `workflow` (a file, or a definition as a dict) to its end; its record."""
        from baton.compiler.asl import compile_workflow
        from baton.definition.exceptions import DefinitionError
        from baton.definition.loader import load_workflow
        from baton.definition.source import parse_text
        from baton.definition.validation import check_workflow
        from baton_service.record import ExecutionRecord

        if isinstance(workflow, Mapping):
            doc = parse_text(json.dumps(dict(workflow)), "<definition>.json")
            checked, problems = check_workflow(doc, self.registry)
            if checked is None:
                raise DefinitionError(problems)
            resolved = checked
        else:
            resolved = load_workflow(workflow, self.registry)
        runtime = self.runtime()
        compiled = compile_workflow(self._site.point(resolved))
        execution = runtime.execute(compiled, dict(input or {}), tenant=tenant, no_cache=no_cache)
        return ExecutionRecord.model_validate(execution)

    def close(self) -> None:
        self._stack.close()


def pytest_configure(config: pytest.Config) -> None:
    functions = config.rootpath / "functions"
    if functions.is_dir():
        use_functions(functions)


@pytest.fixture
def agent_kit() -> AgentTestKit:
    """Call agents with a fake context and in-memory backends (no AWS, no moto)."""
    return AgentTestKit()


@pytest.fixture
def run_workflow() -> Iterator[OfflineWorkflows]:
    """Run whole workflows offline: `run_workflow("statemachines/x.yaml", {"a": 1})`."""
    workflows = OfflineWorkflows()
    try:
        yield workflows
    finally:
        workflows.close()
