"""`baton new agent` and `baton new workflow`: a working agent (handler, registry entry, unit
test) and a workflow using it, in a project folder (`statemachines/`, `functions/`, `tests/`).

A project without a registry gets one that `extends: baton` (the agents Baton ships). Nothing
is overwritten: a name, id, module or file already taken is refused, and the registry is
written only once the new entry reads back as the agent it should be.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from baton.definition.base import AGENT_NAME_PATTERN
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import DEFINITIONS_DIR, REGISTRY_FILE, load_registry
from baton.lambda_code import FUNCTIONS_DIR
from baton.scaffold_templates import (
    AGENT_HANDLER,
    AGENT_TEST,
    REGISTRY_ENTRY,
    REGISTRY_HEADER,
    WORKFLOW,
    WORKFLOW_TEST,
)


class ScaffoldError(ValueError):
    """What `baton new` was asked cannot be made (the message says why and what to do)."""


@dataclass(frozen=True)
class Scaffolded:
    """The files written (and the registry entry, when an agent was added)."""

    files: list[Path]


def _camel(name: str) -> str:
    first, *rest = name.split("-")
    return first + "".join(part.title() for part in rest)


def _checked_name(name: str, what: str) -> str:
    if not re.match(AGENT_NAME_PATTERN, name) or len(name) > 40:
        raise ScaffoldError(
            f"{what} name {name!r}: use lowercase words joined by hyphens, at most 40 "
            "characters (price-check)"
        )
    return name


def _free(path: Path) -> Path:
    if path.exists():
        raise ScaffoldError(f"{path} already exists; choose another name or remove it")
    return path


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def registry_path(project: Path) -> Path:
    return project / DEFINITIONS_DIR / REGISTRY_FILE


def new_agent(project: Path, name: str, description: str = "") -> Scaffolded:
    """Write the agent's handler, its registry entry and its unit test under `project`."""
    _checked_name(name, "agent")
    module = name.replace("-", "_")
    code = project / "functions" / module
    test = project / "tests" / f"test_{module}.py"
    registry_file = registry_path(project)
    for path in (code, test):
        _free(path)
    if importlib.util.find_spec(module) is not None or (FUNCTIONS_DIR / module).exists():
        raise ScaffoldError(
            f"a Python module named {module!r} already exists; choose another agent name"
        )
    before = registry_file.read_text(encoding="utf-8") if registry_file.is_file() else None
    registry = load_registry(registry_file) if before is not None else load_registry()
    if registry.find(name) is not None:
        raise ScaffoldError(f"the registry already has an agent named {name!r}")
    entry = REGISTRY_ENTRY.format(
        id=max((a.id for a in registry.agents), default=0) + 1,
        name=name,
        handler=f"{module}.handler.handler",
        description=description
        or f"Counts the words of `text` (scaffolded by baton new agent {name}).",
    )
    text = (
        REGISTRY_HEADER + entry.lstrip("\n")
        if before is None
        else before.rstrip("\n") + "\n" + entry
    )
    written: list[Path] = []
    _write(registry_file, text, written)
    try:
        load_registry(registry_file).get(name)
    except (DefinitionError, KeyError) as error:
        if before is None:
            registry_file.unlink()
        else:
            registry_file.write_text(before, encoding="utf-8")
        raise ScaffoldError(
            f"{registry_file}: the new entry did not read back ({error}); add it under "
            f"`agents:` yourself:\n{entry}"
        ) from error
    key = _camel(name)
    _write(code / "__init__.py", "", written)
    _write(code / "handler.py", AGENT_HANDLER.format(name=name, key=key), written)
    _write(test, AGENT_TEST.format(name=name, key=key, module=module), written)
    return Scaffolded(written)


def new_workflow(project: Path, name: str, agents: list[str] | None = None) -> Scaffolded:
    """Write a workflow running `agents` (default: the project's newest agent) and its test."""
    _checked_name(name, "workflow")
    module = name.replace("-", "_")
    file = _free(project / DEFINITIONS_DIR / f"{name}.yaml")
    test = _free(project / "tests" / f"test_{module}_workflow.py")
    registry_file = registry_path(project)
    registry = load_registry(registry_file if registry_file.is_file() else None)
    chosen = agents or [_newest_own_agent(registry_file)]
    unknown = [a for a in chosen if registry.find(a) is None]
    if unknown:
        raise ScaffoldError(
            f"no agent named {', '.join(map(repr, unknown))} in the registry; "
            "add one with `baton new agent NAME`"
        )
    title = " ".join(part.title() for part in name.split("-"))
    written: list[Path] = []
    _write(file, WORKFLOW.format(id=name, title=title, agents=", ".join(chosen)), written)
    _write(test, WORKFLOW_TEST.format(name=name, module=module, agents=chosen), written)
    return Scaffolded(written)


def _newest_own_agent(registry_file: Path) -> str:
    if registry_file.is_file():
        own = [
            spec
            for spec in load_registry(registry_file).agents
            if Path(spec.declared_at[0]).resolve() == registry_file.resolve()
        ]
        if own:
            return own[-1].name
    return "log"
