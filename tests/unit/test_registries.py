"""Registries compose: a project's agents added to Baton's (`extends:`, several files), each
handler imported from its own registry's code folder; every clash named with its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.definition.exceptions import DefinitionError
from baton.definition.handlers import handler_problems, import_handler
from baton.definition.loader import load_registry
from baton.definition.registries import SHIPPED_REGISTRY

SHIPPED_COUNT = len(load_registry(SHIPPED_REGISTRY).agents)


def entry(agent_id: int, name: str, handler: str = "mine.handler.handler") -> str:
    return f"  - id: {agent_id}\n    name: {name}\n    handler: {handler}\n"


def registry(folder: Path, text: str, name: str = "agents.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def problems(paths) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_registry(paths)
    return [str(p) for p in caught.value.problems]


def test_extends_baton_adds_the_projects_agents_after_the_shipped_ones(tmp_path):
    mine = registry(tmp_path, "extends: baton\nagents:\n" + entry(100, "greeter"))
    agents = load_registry(mine)
    assert len(agents.agents) == SHIPPED_COUNT + 1
    assert agents.get("login").declared_at == (str(SHIPPED_REGISTRY), 0)
    assert agents.get("greeter").declared_at == (str(mine), 0)


def test_extends_a_list_of_relative_files_each_read_once(tmp_path):
    registry(tmp_path / "shared", "agents:\n" + entry(1, "a"))
    registry(tmp_path / "team", "extends: ../shared/agents.yaml\nagents:\n" + entry(2, "b"))
    top = registry(
        tmp_path,
        "extends: [shared/agents.yaml, team/agents.yaml]\nagents:\n" + entry(3, "c"),
    )
    assert [a.name for a in load_registry(top).agents] == ["a", "b", "c"]


def test_several_files_compose_in_order(tmp_path):
    first = registry(tmp_path / "one", "agents:\n" + entry(101, "first"))
    second = registry(tmp_path / "two", "agents:\n" + entry(102, "second"))
    names = [a.name for a in load_registry([SHIPPED_REGISTRY, first, second]).agents]
    assert names[-2:] == ["first", "second"] and len(names) == SHIPPED_COUNT + 2


def test_a_name_or_id_declared_twice_is_named_with_the_file_that_has_it(tmp_path):
    mine = registry(
        tmp_path,
        "extends: baton\nagents:\n" + entry(1, "greeter") + entry(200, "login"),
    )
    assert problems(mine) == [
        f"{mine}:3: agents[0].id: agent id 1 is already declared in {SHIPPED_REGISTRY}",
        f"{mine}:7: agents[1].name: agent name 'login' is already declared in {SHIPPED_REGISTRY}",
    ]


def test_a_missing_extended_file_and_a_cycle_are_refused_where_they_are_written(tmp_path):
    missing = registry(tmp_path / "m", "extends: nowhere.yaml\nagents: []\n")
    assert problems(missing) == [
        f"{missing}:1: extends: no registry file {missing.parent / 'nowhere.yaml'} "
        "(`baton` names Baton's own)"
    ]
    a = registry(tmp_path / "c", "extends: b.yaml\nagents: []\n", "a.yaml")
    b = registry(tmp_path / "c", "extends: [a.yaml]\nagents: []\n", "b.yaml")
    (found,) = problems(a)
    assert found.startswith(f"{b}:1: extends[0]: a registry cannot extend itself (")
    assert found.endswith(f"{a.resolve()} → {b.resolve()} → {a.resolve()})")


def test_handlers_import_from_their_registrys_code_folder(tmp_path):
    """An agent may live in any module: here in a `code:` folder beside its registry."""
    package = tmp_path / "src" / "registries_demo_agent"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "from baton_agent import AgentResult, agent\n\n"
        "@agent\ndef handler(data, context):\n    return AgentResult(data={'seen': True})\n"
    )
    mine = registry(
        tmp_path / "conf",
        "extends: baton\ncode: ../src\nagents:\n"
        + entry(300, "demo", "registries_demo_agent.handler.handler"),
    )
    agents = load_registry(mine)
    spec = agents.get("demo")
    assert spec.code_root == str((tmp_path / "src").resolve())
    handler = import_handler(spec)
    assert handler({"agent": "demo", "data": {}, "context": {}})["data"] == {"seen": True}
    assert handler_problems(agents, ["demo", "login"]) == []


def test_a_code_folder_that_does_not_exist_is_refused(tmp_path):
    mine = registry(tmp_path, "code: src\nagents: []\n")
    assert problems(mine) == [
        f"{mine}:1: code: no folder {tmp_path / 'src'} to import handlers from"
    ]


def test_the_default_code_folder_is_functions_beside_statemachines(tmp_path):
    (tmp_path / "functions").mkdir()
    mine = registry(tmp_path / "statemachines", "agents:\n" + entry(1, "x"))
    assert load_registry(mine).get("x").code_root == str((tmp_path / "functions").resolve())
    loose = registry(tmp_path / "elsewhere", "agents:\n" + entry(1, "y"))
    assert load_registry(loose).get("y").code_root == str((tmp_path / "elsewhere").resolve())
