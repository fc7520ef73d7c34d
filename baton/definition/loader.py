"""Finding and loading the registry and workflow files of a project."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from baton.definition.exceptions import DefinitionError
from baton.definition.registries import load_registries
from baton.definition.registry import AgentRegistry
from baton.definition.resolved import ResolvedWorkflow
from baton.definition.source import read_document
from baton.definition.validation import check_workflow

REGISTRY_FILE = "agents.yaml"
DEFINITIONS_DIR = "statemachines"
OFFLINE_SECRETS = "offline/secrets.yaml"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` (default: cwd) upwards, holding statemachines/agents.yaml.

    Falls back to the checkout this package lives in, so `baton` works from any folder.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFINITIONS_DIR / REGISTRY_FILE).is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def default_registry_path() -> Path:
    return project_root() / DEFINITIONS_DIR / REGISTRY_FILE


def load_registry(path: str | Path | Sequence[str | Path] | None = None) -> AgentRegistry:
    """Load and validate the agent registry (one file, or several composed in order, each with
    what it `extends`); raise DefinitionError listing every problem."""
    if path is None:
        paths: Sequence[str | Path] = [default_registry_path()]
    elif isinstance(path, str | Path):
        paths = [path]
    else:
        paths = list(path) or [default_registry_path()]
    return load_registries(paths)


def load_workflow(path: str | Path, registry: AgentRegistry) -> ResolvedWorkflow:
    """Load, validate and resolve one workflow file; raise DefinitionError listing every problem."""
    doc = read_document(path)
    workflow, problems = check_workflow(doc, registry)
    if workflow is None:
        raise DefinitionError(problems)
    return workflow


def offline_secrets() -> dict[str, str]:
    """The fake secrets the shipped examples use offline (statemachines/offline/secrets.yaml)."""
    path = project_root() / DEFINITIONS_DIR / OFFLINE_SECRETS
    if not path.is_file():
        return {}
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in values.items()}


def workflow_files(folder: str | Path | None = None) -> list[Path]:
    """The workflow definition files of a project (every YAML/JSON in statemachines/ but the registry)."""
    base = Path(folder) if folder else project_root() / DEFINITIONS_DIR
    return sorted(
        p
        for p in base.iterdir()
        if p.suffix in {".yaml", ".yml", ".json"} and p.name != REGISTRY_FILE
    )
