"""The DynamoDB attribute values offline responses write directly are exactly what moto's
model walker writes (baton.local.seams.attribute_values)."""

from __future__ import annotations

import json

import pytest
from moto.core.serialize import BaseJSONSerializer, get_serializer_class
from moto.core.utils import get_service_model

from baton.local.seams.attribute_values import attribute_value, serialize_structure

ITEM = {
    "pk": {"S": "EXEC#acme#1"},
    "n": {"N": "12.50"},
    "count": {"N": 5},  # written as the string "5", by both
    "empty": {"S": ""},
    "flag": {"BOOL": False},
    "none": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "sizes": {"NS": ["1", "2.5"]},
    "data": {
        "M": {
            "nested": {"M": {"deep": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}}},
            "quote": {"S": 'say "hi" \\ \n ünïcödé'},
            "list": {"L": []},
        }
    },
}
BINARY = {"blob": {"B": "aGVsbG8="}, "inside": {"M": {"b": {"BS": ["aGk="]}}}}


def _serialized(result: dict, *, direct: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    model = get_service_model("dynamodb")
    operation = model.operation_model("Query")
    if direct:
        original = BaseJSONSerializer._serialize_type_structure
        monkeypatch.setattr(
            BaseJSONSerializer, "_serialize_type_structure", serialize_structure(original)
        )
    serializer = get_serializer_class("dynamodb", "json")(operation_model=operation)
    try:
        return serializer.serialize(result)["body"]
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("item", [ITEM, BINARY, {**ITEM, **BINARY}])
def test_written_directly_as_moto_writes_it(item, monkeypatch):
    result = {
        "Items": [item, item],
        "Count": 2,
        "LastEvaluatedKey": {"pk": item.get("pk", {"S": "k"})},
    }
    walked = _serialized(result, direct=False, monkeypatch=monkeypatch)
    direct = _serialized(result, direct=True, monkeypatch=monkeypatch)
    assert direct == walked
    assert json.loads(direct)["Items"][0] == json.loads(walked)["Items"][0]


def test_items_without_binaries_take_the_direct_path():
    assert all(attribute_value(value) is not None for value in ITEM.values())
    assert attribute_value(ITEM["count"]) == {"N": "5"}


def test_binaries_and_unknown_shapes_are_left_to_moto():
    assert attribute_value({"B": "aGk="}) is None
    assert attribute_value({"M": {"x": {"BS": ["aGk="]}}}) is None
    assert attribute_value({"L": [None]}) is None
    assert attribute_value("not a value") is None
    assert attribute_value({"S": "x", "unknown": 1}) == {"S": "x"}
