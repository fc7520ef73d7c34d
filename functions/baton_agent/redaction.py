"""Secret values never leave an agent: not in its data, nor in an error message, nor in a log.

A value is looked for as written and in the forms it takes on its way out: JSON-escaped (with
and without non-ASCII escapes), URL-encoded (path and form encodings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "***"


def forms(value: str) -> set[str]:
    """The spellings of `value` that a message or a JSON document may carry."""
    spellings = {
        value,
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
    }
    return {s for s in spellings if s}


def strings_in(value: Any) -> Iterator[str]:
    """Every text in a JSON-like value, keys included (numbers and the like as text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
    elif value is not None:
        yield str(value)


def contains_any(text: str, values: Iterable[str]) -> bool:
    return any(form in text for value in values if value for form in forms(value))


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every spelling of every value replaced (longest first, so no part is left)."""
    spellings = sorted({f for v in values if v for f in forms(v)}, key=len, reverse=True)
    for spelling in spellings:
        text = text.replace(spelling, REDACTED)
    return text
