"""Sizes as written in definitions: a bare number is bytes; a string carries its unit, `64KiB`,
`200KiB`, `1MiB` (1024-based) or `100KB` (1000-based)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1_000_000, "mib": 1_048_576}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(value: Any) -> int:
    """The size in bytes; ValueError naming the value when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if match is None or match.group(2) not in ("", *_UNITS):
        raise ValueError(
            f"{value!r} is not a size: write bytes as a number, or a number with a unit "
            "(B, KiB, MiB, KB, MB) such as '200KiB'"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2) or "b"])


Size = Annotated[
    int,
    BeforeValidator(parse_size),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}]}),
]
