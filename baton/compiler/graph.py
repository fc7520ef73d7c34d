"""Draw a compiled state machine as a Mermaid flowchart or a Graphviz DOT graph.

The drawing is made from the ASL itself, so it shows exactly what runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from baton.compiler.checks import inner_scopes

GraphFormat = Literal["mermaid", "dot"]


def _edges(state: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(target, label) for every way out of a state."""
    for choice in state.get("Choices", []):
        condition = choice.get("Condition", "").removeprefix("{% ").removesuffix(" %}")
        yield choice["Next"], _short(condition)
    if "Default" in state:
        yield state["Default"], "otherwise" if state.get("Choices") else ""
    for catch in state.get("Catch", []):
        yield catch["Next"], "on failure"
    if "Next" in state:
        yield state["Next"], ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Ids:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        return self.ids.setdefault(name, f"s{len(self.ids)}")


def _mermaid_label(text: str) -> str:
    return json.dumps(text).replace("&", "&amp;")[1:-1].replace('\\"', "#quot;")


STATUS_COLOURS = {
    "done": ("#c9f2d0", "#1e7b34"),
    "running": ("#cfe3ff", "#1f5fbf"),
    "failed": ("#ffd1d1", "#b3261e"),
    "skipped": ("#f1e3b5", "#8a6d00"),
}
"""Fill and stroke of a state by its status in an execution (`to_mermaid(asl, statuses)`)."""


def to_mermaid(asl: dict[str, Any], statuses: Mapping[str, str] | None = None) -> str:
    """The flowchart; with `statuses` (state name → done, running, failed, skipped) each such
    state is drawn in its status's colours (class `done`...)."""
    ids = _Ids()
    lines = ["flowchart TD"]
    subgraphs: set[str] = set()  # drawn as boxes around their states: no class of their own

    def scope(states: dict[str, Any], start: str, indent: str) -> None:
        lines.append(f"{indent}{ids('__start__' + start)}(( )) --> {ids(start)}")
        for name, state in states.items():
            shape = _mermaid_shape(state["Type"], _mermaid_label(name))
            if inner_scopes(state):
                subgraphs.add(name)
                lines.append(f'{indent}subgraph {ids(name)}["{_mermaid_label(name)}"]')
                for inner in inner_scopes(state):
                    scope(inner["States"], inner["StartAt"], indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(f"{indent}{ids(name)}{shape}")
            for target, label in _edges(state):
                arrow = f' -->|"{_mermaid_label(label)}"| ' if label else " --> "
                lines.append(f"{indent}{ids(name)}{arrow}{ids(target)}")

    scope(asl["States"], asl["StartAt"], "  ")
    for status, (fill, stroke) in STATUS_COLOURS.items():
        named = [
            ids.ids[state]
            for state, value in (statuses or {}).items()
            if value == status and state in ids.ids and state not in subgraphs
        ]
        if named:
            lines.append(f"  classDef {status} fill:{fill},stroke:{stroke},stroke-width:2px")
            lines.append(f"  class {','.join(named)} {status}")
    return "\n".join(lines) + "\n"


def _mermaid_shape(kind: str, label: str) -> str:
    return {
        "Choice": f'{{"{label}"}}',
        "Succeed": f'(["{label}"])',
        "Fail": f'(["{label}"])',
        "Pass": f'["{label}"]',
    }.get(kind, f'["{label}"]')


def to_dot(asl: dict[str, Any]) -> str:
    ids = _Ids()
    lines = [
        "digraph workflow {",
        "  rankdir=TB;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
    ]

    def scope(states: dict[str, Any], start: str, indent: str, entry: str | None) -> None:
        if entry is None:
            entry = ids("__start__")
            lines.append(f'{indent}{entry} [shape=point, label=""];')
            lines.append(f"{indent}{entry} -> {ids(start)};")
        else:
            lines.append(f'{indent}{entry} -> {ids(start)} [style=dashed, label="each member"];')
        for name, state in states.items():
            shape = {"Choice": "diamond", "Succeed": "doublecircle", "Fail": "octagon"}.get(
                state["Type"], "box"
            )
            lines.append(f"{indent}{ids(name)} [label={json.dumps(name)}, shape={shape}];")
            if inner_scopes(state):
                lines.append(f"{indent}subgraph cluster_{ids(name)} {{")
                lines.append(f'{indent}  label="at the same time";')
                for inner in inner_scopes(state):
                    scope(inner["States"], inner["StartAt"], indent + "  ", ids(name))
                lines.append(f"{indent}}}")
            for target, label in _edges(state):
                attrs = f" [label={json.dumps(label)}]" if label else ""
                lines.append(f"{indent}{ids(name)} -> {ids(target)}{attrs};")

    scope(asl["States"], asl["StartAt"], "  ", None)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(asl: dict[str, Any], fmt: GraphFormat = "mermaid") -> str:
    return to_mermaid(asl) if fmt == "mermaid" else to_dot(asl)
