"""One change to moto, with the reason for it and the test that shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Change = Callable[[Any], Any]
"""Given what an attribute holds, what it holds while the seams are in (a wrapper of it, or a
replacement: `to(value)`)."""
Replacement = tuple[Any, str, Change]
"""(target, attribute, change)."""


@dataclass(frozen=True)
class Adaptation:
    """A named change to moto: the AWS behaviour it restores (or the cost of moto's it removes)
    and the test that fails without it. `BATON_WITHOUT_SEAMS=name,...` leaves it out, to see
    what moto does on its own."""

    name: str
    restores: str
    shown_by: str
    """`tests/<path>.py::<test function>`."""
    replacements: tuple[Replacement, ...]


def to(value: Any) -> Change:
    """A change that puts `value` in place of what the attribute held."""
    return lambda _original: value


INHERITED = object()
"""What `current` says of a class attribute the class inherits (no entry of its own)."""


def current(target: Any, name: str) -> Any:
    """What `target.name` holds now (a class's own entry keeps its staticmethod wrapper;
    INHERITED when the class has none: restoring it removes the class's entry)."""
    if isinstance(target, type):
        return target.__dict__.get(name, INHERITED)
    return getattr(target, name)
