"""Durations as written in definitions.

A bare number is milliseconds, as in the reference document's JSON (`timeout: 300000`); a string
carries its unit: `500ms`, `30s`, `5m`, `1h`, `1d`, or a sum such as `1m30s`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


class DurationFormatError(ValueError):
    """A duration that is neither a number of milliseconds nor a string like `5m`."""


def parse_duration_ms(value: Any) -> float:
    """Return the duration in milliseconds; raise DurationFormatError naming the bad value."""
    if isinstance(value, bool):
        raise DurationFormatError(
            f"{str(value).lower()} is not a duration: write milliseconds as a number, "
            "or a number with a unit (ms, s, m, h, d) such as '30s' or '5m'"
        )
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise DurationFormatError(f"{value!r} is not a duration")
    text = value.strip().replace(" ", "")
    if text.isdigit():
        return float(text)
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise DurationFormatError(
            f"{value!r} is not a duration: write milliseconds as a number, "
            "or a number with a unit (ms, s, m, h, d) such as '30s' or '5m'"
        )
    return total


def format_duration(ms: float) -> str:
    """Shortest readable form: 300000 -> '5m', 1500 -> '1.5s'."""
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_MS[unit]
        if ms >= size and ms % size == 0:
            return f"{int(ms // size)}{unit}"
    if ms >= 1000:
        return f"{ms / 1000:g}s"
    return f"{ms:g}ms"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration_ms),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "description": "milliseconds"},
                {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"},
            ],
            "description": "A duration: milliseconds as a number, or a string like '30s', '5m'.",
        }
    ),
]
"""A duration in milliseconds, parsed from a number (ms) or a string with a unit."""
