"""Reading a malformed definition the way `baton validate` does: every problem, as text."""

from __future__ import annotations

from pathlib import Path

from baton.compiler.asl import compile_workflow
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import load_registry, load_workflow, project_root

MALFORMED = Path(__file__).parent / "malformed"


def problems_of(path: Path) -> list[str]:
    """The problems of one case (a file named `NN-registry-*` is a registry), paths relative
    to the project; [] when the file was accepted."""
    try:
        if "-registry-" in path.name:
            load_registry(path)
        else:
            compile_workflow(load_workflow(path, load_registry()))
    except DefinitionError as error:
        root = f"{project_root()}/"
        return [str(p).removeprefix(root) for p in error.problems]
    return []
