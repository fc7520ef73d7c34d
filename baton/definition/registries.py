"""Composing agent registries: a project's own agents added to the ones Baton ships.

A registry file may say `extends: <file>` (or a list): the files it names, relative to it, are
read first and its own agents are added after theirs. `extends: baton` names the registry that
ships with Baton (statemachines/agents.yaml of this checkout). Several files given at once
(`--registry a.yaml --registry b.yaml`) compose the same way, in order. Each file is read once
however often it is named; an agent id or name declared twice, `extends` naming a missing file,
or a file extending itself are problems that name the file and the key.

Each agent's handler is imported from its registry's code folder, as Lambda imports from its
package root: the file's `code:` (relative to it), else the `functions/` folder beside a
`statemachines/` folder holding the file, else the file's own folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from baton.definition.exceptions import DefinitionError, Problem
from baton.definition.registry import AgentRegistry
from baton.definition.source import Document, read_document
from baton.definition.validation import document_loc, pattern_message

SHIPPED = "baton"
"""`extends: baton`: the registry shipped with Baton."""
SHIPPED_REGISTRY = Path(__file__).resolve().parents[2] / "statemachines" / "agents.yaml"


def load_registries(paths: Sequence[str | Path]) -> AgentRegistry:
    """One registry of every agent the files declare (their `extends` first), or a
    DefinitionError listing every problem."""
    loaded: list[tuple[Document, AgentRegistry]] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for path in paths:
        _load(Path(path), (), seen, loaded, problems)
    if problems:
        raise DefinitionError(problems)
    return _combined(loaded)


def _load(
    path: Path,
    chain: tuple[Path, ...],
    seen: set[Path],
    loaded: list[tuple[Document, AgentRegistry]],
    problems: list[Problem],
) -> None:
    key = path.resolve()
    if key in seen:
        return
    seen.add(key)
    try:
        doc = read_document(path)
        registry = _validated(doc)
    except DefinitionError as error:
        problems += error.problems
        return
    for index, named in enumerate(_extended(registry)):
        target = SHIPPED_REGISTRY if named == SHIPPED else path.parent / named
        where: tuple[str | int, ...] = (
            ("extends", index) if isinstance(registry.extends, list) else ("extends",)
        )
        if target.resolve() in (*chain, key):
            cycle = " → ".join(str(p) for p in (*chain, key, target.resolve()))
            problems.append(doc.problem(where, f"a registry cannot extend itself ({cycle})"))
        elif not target.is_file():
            problems.append(
                doc.problem(where, f"no registry file {target} (`baton` names Baton's own)")
            )
        else:
            _load(target, (*chain, key), seen, loaded, problems)
    registry._file = doc.file
    code = (path.parent / registry.code) if registry.code else _default_code(path)
    if registry.code and not code.is_dir():
        problems.append(doc.problem(("code",), f"no folder {code} to import handlers from"))
    for index, spec in enumerate(registry.agents):
        spec._declared_at = (doc.file, index)
        spec._code_root = str(code.resolve())
    loaded.append((doc, registry))


def _extended(registry: AgentRegistry) -> list[str]:
    if registry.extends is None:
        return []
    return [registry.extends] if isinstance(registry.extends, str) else list(registry.extends)


def _default_code(path: Path) -> Path:
    folder = path.resolve().parent
    beside = folder.parent / "functions"
    return beside if folder.name == "statemachines" and beside.is_dir() else folder


def _validated(doc: Document) -> AgentRegistry:
    try:
        return AgentRegistry.model_validate(doc.data)
    except ValidationError as error:
        raise DefinitionError(
            [
                doc.problem(
                    document_loc(doc.data, e["loc"]),
                    pattern_message(e)
                    if e["type"] == "string_pattern_mismatch"
                    else str(e["msg"]).removeprefix("Value error, "),
                )
                for e in error.errors()
            ]
        ) from error


def _combined(loaded: list[tuple[Document, AgentRegistry]]) -> AgentRegistry:
    """The agents of every file in order; an id or name declared by two files is a problem at
    the later one."""
    if len(loaded) == 1:
        return loaded[0][1]
    owners: dict[int | str, str] = {}
    problems = []
    for doc, registry in loaded:
        for index, spec in enumerate(registry.agents):
            for field, key in (("id", spec.id), ("name", spec.name)):
                if key in owners:
                    problems.append(
                        doc.problem(
                            ("agents", index, field),
                            f"agent {field} {key!r} is already declared in {owners[key]}",
                        )
                    )
                owners.setdefault(key, doc.file)
    if problems:
        raise DefinitionError(problems)
    combined = AgentRegistry(agents=[spec for _, registry in loaded for spec in registry.agents])
    combined._file = loaded[-1][0].file
    return combined
