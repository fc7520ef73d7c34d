"""Agent handlers as Lambda would load them: `package.module.function`, importable from the
functions/ folder (or anywhere on the path), and callable. `baton validate` checks every handler
a workflow can invoke, so a typo is found before a run, not as a traceback during one."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from baton.definition.exceptions import Problem
from baton.definition.registry import AgentRegistry, AgentSpec
from baton.lambda_code import FUNCTIONS_DIR, use_functions


class HandlerError(RuntimeError):
    """An agent handler that cannot be imported, or is not a function."""


def import_handler(spec: AgentSpec, functions_dir: Path = FUNCTIONS_DIR) -> Callable[..., Any]:
    """Import `spec.handler` ('package.module.function'), as Lambda does from its package root
    (the agent's registry's code folder), with Baton's agent SDK importable beside it."""
    use_functions(FUNCTIONS_DIR)
    use_functions(functions_dir)
    if spec.code_root:
        use_functions(Path(spec.code_root))
    module_name, _, attr = spec.handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # ImportError, or whatever the module raised while importing
        raise HandlerError(
            f"agent {spec.name}: cannot import module {module_name!r} of handler "
            f"{spec.handler}: {type(err).__name__}: {err}"
        ) from err
    handler = getattr(module, attr, None)
    if handler is None:
        raise HandlerError(
            f"agent {spec.name}: module {module_name!r} has no {attr!r} (handler {spec.handler})"
        )
    if not callable(handler):
        raise HandlerError(f"agent {spec.name}: handler {spec.handler} is not callable")
    return handler  # type: ignore[no-any-return]


def handler_problems(
    registry: AgentRegistry, agents: Iterable[str], functions_dir: Path = FUNCTIONS_DIR
) -> list[Problem]:
    """A problem per agent (of `agents`) whose handler does not load, at its registry entry."""
    problems = []
    for name in sorted(set(agents)):
        spec = registry.get(name)
        try:
            import_handler(spec, functions_dir)
        except HandlerError as error:
            file, index = spec.declared_at
            problems.append(Problem(file or registry.file, f"agents[{index}].handler", str(error)))
    return problems
