"""moto's JSON responses offline, written without walking every member of every shape.

moto writes every response by walking the service model: for each structure it asks for every
member of its shape, each through a chain of name aliases, whether the value holds it or not.

- DynamoDB attribute values: for each of each item it asked for all ten members of the
  AttributeValue shape (S, N, B, SS, NS, BS, M, L, NULL, BOOL). Items carry the DynamoDB JSON
  already, so the walk produced the same dict at about half the cost of a GetItem.
  `attribute_value` writes that dict directly; a value holding a binary (B, BS) is left to
  moto, whose encoding of binaries this does not repeat.
- Any other structure given as a dict whose keys are all members of its shape (a Step
  Functions history event: 5 of its 41 members set, each visited): only the members it holds
  are visited and written, each as moto writes it, in the shape's order as moto writes them. A
  value found through the aliases or a service's response transformers is left to moto.

Both are checked equal to moto's own output by tests.

Requests are read the same way: an attribute value of a DynamoDB request is taken as the JSON
it is (`parse_structure`), where moto walked the ten members of each; one holding a binary, or
anything but the members, is left to moto.
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


_PLAIN_MEMBERS = frozenset(("S", "N", "SS", "NS", "M", "L", "NULL", "BOOL"))


def plain_attribute_value(value: Any) -> bool:
    """Whether moto's parse of this AttributeValue gives it back as it is: members other than
    binaries, none of them null, maps and lists of such values."""
    if type(value) is not dict or not value.keys() <= _PLAIN_MEMBERS:
        return False
    if any(member is None for member in value.values()):
        return False
    if (members := value.get("M")) is not None and (
        type(members) is not dict or not all(map(plain_attribute_value, members.values()))
    ):
        return False
    elements = value.get("L")
    return elements is None or (
        type(elements) is list and all(map(plain_attribute_value, elements))
    )


def parse_structure(original: Any) -> Any:
    """moto's JSON request parser's structure method, with a DynamoDB attribute value that
    holds no binary taken as it is."""

    def parse(self: Any, shape: Any, value: Any) -> Any:
        if shape.name == "AttributeValue" and plain_attribute_value(value):
            return value
        return original(self, shape, value)

    return parse


def _members_only(serializer: Any, value: Any, shape: Any) -> bool:
    """Whether moto's walk of `shape` would find in `value` exactly its own keys: a dict of
    member names, no document type, no response transformer."""
    if type(value) is not dict or getattr(shape, "is_document_type", False):
        return False
    if getattr(serializer._value_picker, "response_transformers", None):
        return False
    members = shape.members
    return all(name in members for name in value)


ORDER = "_baton_member_order"
"""The attribute of a structure's shape holding its members' positions (botocore makes each
shape's members once, and moto writes them in that order)."""


def _in_shape_order(shape: Any, names: Any) -> list[str]:
    """These member names in the order of the shape's members."""
    order = shape.__dict__.get(ORDER)
    if order is None:
        order = {name: position for position, name in enumerate(shape.members)}
        setattr(shape, ORDER, order)
    return sorted(names, key=order.__getitem__)


def serialize_structure(original: Any) -> Any:
    """moto's JSON serializer's structure method, with attribute values of DynamoDB and
    structures given as dicts of their members written directly."""

    def serialize(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            written = attribute_value(value)
            if written is not None:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        if _members_only(self, value, shape):
            wrapper = self.MAP_TYPE() if key else serialized
            members = shape.members
            for name in _in_shape_order(shape, [k for k, v in value.items() if v is not None]):
                member_shape = members[name]
                member_shape.parent = shape  # as moto does: its pickers read it
                self._serialize(wrapper, value[name], member_shape, name)
            if key:
                self._default_serialize(serialized, wrapper, shape, key)
            return
        original(self, serialized, value, shape, key)

    serialize.original = original  # type: ignore[attr-defined]
    return serialize
