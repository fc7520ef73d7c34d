"""Structural checks of an ASL document, run on every compiled workflow.

Every Next/Default/Catch target exists in its scope (a Map's item processor and each branch of a
Parallel are scopes of their own), every state is reachable from StartAt, each
scope has a terminal state, state names are unique and short enough, and in every Retry and Catch
block `States.ALL` appears last and alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_STATE_NAME = 80


def targets(state: dict[str, Any]) -> Iterator[str]:
    """Every state a transition of `state` can go to (Next, Default, Choices, Catch)."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def inner_scopes(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The scopes a state runs inside it: a Map's item processor, a Parallel's branches."""
    if state.get("Type") == "Map":
        return [state.get("ItemProcessor", {})]
    if state.get("Type") == "Parallel":
        return list(state.get("Branches", []))
    return []


def _error_blocks(name: str, state: dict[str, Any]) -> Iterator[str]:
    for field in ("Retry", "Catch"):
        block = state.get(field, [])
        for index, entry in enumerate(block):
            errors = entry.get("ErrorEquals", [])
            if not errors:
                yield f"{name}: {field}[{index}] has an empty ErrorEquals"
            if "States.ALL" in errors:
                if len(errors) != 1:
                    yield f"{name}: {field}[{index}] lists States.ALL with other errors"
                if index != len(block) - 1:
                    yield f"{name}: {field}[{index}] has States.ALL before the last entry"


def _scope(states: dict[str, Any], start: str, where: str, seen_names: set[str]) -> Iterator[str]:
    if start not in states:
        yield f"{where}StartAt {start!r} is not a state"
    terminal = False
    for name, state in states.items():
        if name in seen_names:
            yield f"{where}state name {name!r} is used twice"
        seen_names.add(name)
        if len(name) > MAX_STATE_NAME:
            yield f"{where}state name {name!r} is longer than {MAX_STATE_NAME} characters"
        kind = state.get("Type")
        if kind in ("Succeed", "Fail") or state.get("End") is True:
            terminal = True
        elif kind != "Choice" and "Next" not in state:
            yield f"{where}{name}: neither Next nor End"
        if kind == "Choice" and not state.get("Choices"):
            yield f"{where}{name}: a Choice state without Choices"
        for target in targets(state):
            if target not in states:
                yield f"{where}{name}: goes to {target!r}, which is not a state of this scope"
        yield from _error_blocks(f"{where}{name}", state)
        for index, inner in enumerate(inner_scopes(state)):
            label = f"{name} › " if kind == "Map" else f"{name} › branch {index + 1} › "
            yield from _scope(
                inner.get("States", {}), inner.get("StartAt", ""), f"{where}{label}", seen_names
            )
    if not terminal:
        yield f"{where}no terminal state (Succeed, Fail or End: true)"
    reachable: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name in reachable or name not in states:
            continue
        reachable.add(name)
        stack.extend(targets(states[name]))
    for name in states:
        if name not in reachable:
            yield f"{where}{name}: not reachable from {start!r}"


def structural_problems(asl: dict[str, Any]) -> list[str]:
    """Every structural problem of an ASL document (empty when it is sound)."""
    if asl.get("QueryLanguage") != "JSONata":
        return ["QueryLanguage is not JSONata"]
    return list(_scope(asl.get("States", {}), asl.get("StartAt", ""), "", set()))
