"""DynamoDB responses offline, written without moto's model walker for attribute values.

moto writes every response by walking the service model: for each attribute value of each item
it asks for all ten members of the AttributeValue shape (S, N, B, SS, NS, BS, M, L, NULL,
BOOL), each through a chain of name aliases. Items carry the DynamoDB JSON already, so the walk
produced the same dict at about half the cost of a GetItem. `attribute_value` writes that dict
directly, exactly as the walker would (checked against it by a test); a value holding a binary
(B, BS) is left to moto, whose encoding of binaries this does not repeat.
"""

from __future__ import annotations

from typing import Any

_STRINGS = ("S", "N")
_STRING_SETS = ("SS", "NS")
_FLAGS = ("NULL", "BOOL")
_BINARIES = ("B", "BS")
_EMPTY: tuple[Any, ...] = (None, {}, [])


def _string(value: Any) -> Any:
    """moto's string member: `str(value)`, but None, {} and [] as they are."""
    return value if value in _EMPTY else str(value)


def attribute_value(value: Any) -> dict[str, Any] | None:
    """The serialized form of one AttributeValue, or None when moto must write it."""
    if not isinstance(value, dict) or any(value.get(name) is not None for name in _BINARIES):
        return None
    written: dict[str, Any] = {}
    for name in _STRINGS:
        if value.get(name) is not None:
            written[name] = _string(value[name])
    for name in _STRING_SETS:
        if value.get(name) is not None:
            written[name] = [_string(member) for member in value[name]]
    if (members := value.get("M")) is not None:
        mapped = {key: attribute_value(member) for key, member in members.items()}
        if any(member is None for member in mapped.values()):
            return None
        written["M"] = mapped
    if (elements := value.get("L")) is not None:
        listed = [attribute_value(element) for element in elements]
        if any(element is None for element in listed):
            return None
        written["L"] = listed
    for name in _FLAGS:
        if value.get(name) is not None:
            written[name] = value[name]
    return written


def serialize_structure(original: Any) -> Any:
    """moto's JSON serializer's structure method, with attribute values of DynamoDB written
    directly."""

    def serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            written = attribute_value(value)
            if written is not None:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        original(self, serialized, value, shape, key)

    return serialize
