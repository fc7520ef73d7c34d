"""Reading definition files (YAML or JSON) while remembering the line of every value."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from baton.definition.exceptions import DefinitionError, Problem

PathKey = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """('config', 'parallelGroups', 0, 1) -> 'config.parallelGroups[0][1]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass
class Document:
    """A parsed file: its data and the 1-based line of each path in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of the deepest known prefix of `path` (a missing key points at its parent)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        return Problem(self.file, format_path(path), message, self.line_of(path))


def _index_lines(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*path, key)
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*path, index), lines)


def parse_text(text: str, file: str) -> Document:
    """Parse YAML or JSON text; a syntax error raises DefinitionError with its line."""
    if file.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise DefinitionError(
                [Problem(file, "", f"invalid JSON: {err.msg} (column {err.colno})", err.lineno)]
            ) from err
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if not file.endswith(".json"):
            data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        reason = getattr(err, "problem", None) or str(err)
        if file.endswith(".json"):  # valid JSON that YAML 1.1 reads differently: no line map
            return Document(file, data)
        raise DefinitionError(
            [Problem(file, "", f"invalid YAML: {reason}", mark.line + 1 if mark else None)]
        ) from err
    lines: dict[PathKey, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return Document(file, data, lines)


def read_document(path: str | Path) -> Document:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise DefinitionError([Problem(file, "", f"cannot read the file: {err.strerror}")]) from err
    return parse_text(text, file)
