"""Reading definition files (YAML or JSON) while remembering the line of every value.

A definition file is untrusted input: whatever it holds, reading it ends in a Document or in a
DefinitionError naming what is wrong and where, within bounded time and memory:
- at most MAX_FILE_BYTES, UTF-8 (a UTF-16/32 file is named as such);
- YAML read as YAML 1.2 reads it: only `true`/`false` are booleans (`on`, `yes`, `no`, `off`
  are text, so `on: completed` works), dates stay text;
- aliases may not expand past MAX_VALUES values, nor nesting go deeper than MAX_DEPTH;
- a key given twice is refused with both lines; NaN and Infinity are refused wherever they are.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from baton.definition.exceptions import DefinitionError, Problem

PathKey = tuple[str | int, ...]
MAX_FILE_BYTES = 1_048_576
MAX_VALUES = 100_000
"""Values a file may hold once its aliases are expanded (a YAML "billion laughs" holds 10^9)."""
MAX_DEPTH = 64


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


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2's core schema for booleans, and no timestamps."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:timestamp",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Problems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems


def _check_nodes(root: yaml.Node, file: str) -> dict[PathKey, int]:
    """Line of every path; refuses duplicate keys, too many values (aliases expanded) and too
    deep nesting. Shared (aliased) nodes are counted by their expansion without walking it."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise _Problems([_at(file, node, f"nests deeper than {MAX_DEPTH} levels")])
        key = id(node)
        if key in sizes:
            return sizes[key], depths[key]
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        size, deepest = 1, 0
        for child in children:
            child_size, child_depth = measure(child, depth + 1)
            size += child_size
            deepest = max(deepest, child_depth + 1)
            if size > MAX_VALUES:
                raise _Problems(
                    [
                        _at(
                            file,
                            node,
                            f"holds more than {MAX_VALUES:,} values once its aliases are expanded",
                        )
                    ]
                )
        sizes[key], depths[key] = size, deepest
        return size, deepest

    measure(root, 0)
    lines: dict[PathKey, int] = {}
    _index(root, (), lines, file)
    return lines


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "merge")
}


def _index(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> None:
    lines[path] = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise _Problems(
            [
                Problem(
                    file,
                    format_path(path),
                    f"the tag {tag} is not allowed: a definition holds plain values (text, "
                    "numbers, true/false, lists and mappings)",
                    node.start_mark.line + 1,
                )
            ]
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key in seen:
                where = format_path((*path, key))
                raise _Problems(
                    [
                        Problem(
                            file,
                            where,
                            f"the key {key!r} is given twice (lines {seen[key]} and {line}); "
                            "keep one",
                            line,
                        )
                    ]
                )
            if key is not None:
                seen[key] = line
            child = (*path, key if key is not None else "?")
            _index(value_node, child, lines, file)
            lines[child] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), lines, file)


def _at(file: str, node: yaml.Node, message: str) -> Problem:
    return Problem(file, "", message, node.start_mark.line + 1)


def _non_finite(data: Any, path: PathKey = ()) -> PathKey | None:
    """The path of the first NaN or Infinity in the data, if any."""
    stack: list[tuple[Any, PathKey]] = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return where
        if isinstance(value, dict):
            stack.extend((v, (*where, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(value))
    return None


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} is given twice")
        result[key] = value
    return result


def parse_text(text: str, file: str) -> Document:
    """Parse YAML or JSON text; anything wrong raises DefinitionError saying what and where."""
    try:
        return _parse(text, file)
    except _Problems as found:
        raise DefinitionError(found.problems) from None
    except RecursionError:
        raise DefinitionError(
            [Problem(file, "", f"nests deeper than {MAX_DEPTH} levels")]
        ) from None


def _bracket_depth(text: str) -> tuple[int, int]:
    """(deepest nesting of [ and {, its line), quoted text skipped: a linear scan that turns
    away a deeply nested file before a recursive parser spends seconds on it."""
    depth = deepest = 0
    line = deepest_line = 1
    quote = ""
    escaped = False
    for char in text:
        if char == "\n":
            line += 1
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, deepest_line = depth, line
                if deepest > MAX_DEPTH:
                    break
        elif char in "]}":
            depth -= 1
    return deepest, deepest_line


def _indent_depth(text: str) -> tuple[int, int]:
    """(deepest nesting by indentation and leading `- `, its line): YAML's block nesting."""
    stack: list[int] = []
    deepest = deepest_line = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(stripped)
        dashes = len(stripped) - len(stripped.lstrip("- ")) if stripped.startswith("- ") else 0
        while stack and stack[-1] >= indent:
            stack.pop()
        stack.append(indent)
        depth = len(stack) + dashes // 2
        if depth > deepest:
            deepest, deepest_line = depth, number
            if deepest > MAX_DEPTH:
                break
    return deepest, deepest_line


def _parse(text: str, file: str) -> Document:
    is_json = file.endswith(".json")
    for deepest, line in (_bracket_depth(text), _indent_depth(text)):
        if deepest > MAX_DEPTH:
            raise _Problems([Problem(file, "", f"nests deeper than {MAX_DEPTH} levels", line)])
    node: yaml.Node | None = None
    try:
        node = yaml.compose(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as err:
        if not is_json:  # (valid JSON that YAML cannot read is read without a line map)
            mark = getattr(err, "problem_mark", None)
            reason = getattr(err, "problem", None) or str(err)
            raise _Problems(
                [Problem(file, "", f"invalid YAML: {reason}", mark.line + 1 if mark else None)]
            ) from None
    lines = _check_nodes(node, file) if node is not None else {}
    if is_json:
        try:
            data = json.loads(text, parse_constant=_json_constant, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as err:
            raise _Problems(
                [Problem(file, "", f"invalid JSON: {err.msg} (column {err.colno})", err.lineno)]
            ) from None
        except ValueError as err:
            raise _Problems([Problem(file, "", f"invalid JSON: {err}")]) from None
    else:
        try:
            data = yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass
        except yaml.YAMLError as err:  # (what composing let through)
            raise _Problems([Problem(file, "", f"invalid YAML: {err}")]) from None
    document = Document(file, data, lines)
    bad = _non_finite(data)
    if bad is not None:
        raise _Problems(
            [document.problem(bad, "NaN and Infinity are not numbers a definition may hold")]
        )
    return document


def read_document(path: str | Path) -> Document:
    file = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise DefinitionError([Problem(file, "", f"cannot read the file: {err.strerror}")]) from err
    if len(raw) > MAX_FILE_BYTES:
        raise DefinitionError(
            [Problem(file, "", f"the file is over {MAX_FILE_BYTES:,} bytes, a definition's most")]
        )
    return parse_text(decode(raw, file), file)


_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text (a UTF-8 byte order mark is dropped); any other encoding is refused by name."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise DefinitionError([Problem(file, "", f"the file is {name} text; save it as UTF-8")])
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DefinitionError(
            [
                Problem(
                    file,
                    "",
                    f"the file is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset "
                    f"{err.start}); save it as UTF-8",
                    line,
                )
            ]
        ) from None
