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


def _history_result() -> dict:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 28, 1, 2, 3, 456000, tzinfo=UTC)
    events = []
    for n in range(1, 30):
        details = {"name": f"step {n}", "input": json.dumps({"n": n, "q": 'say "hi"'})}
        kind = ("TaskStateEntered", "stateEnteredEventDetails")
        if n % 3 == 0:
            kind = ("TaskScheduled", "taskScheduledEventDetails")
            details = {
                "resourceType": "lambda",
                "resource": "invoke",
                "region": "us-east-1",
                "parameters": json.dumps({"Payload": {"n": n}}),
                "timeoutInSeconds": 75,
            }
        event = {"timestamp": at, "type": kind[0], "id": n, "previousEventId": n - 1}
        events.append({**event, kind[1]: details})
    return {"events": events, "nextToken": None}


class _CountedMembers(dict):
    """A shape's members, counting how many are looked at (each, or all at once)."""

    def __init__(self, members) -> None:
        super().__init__(members)
        self.looked_at = 0

    def __getitem__(self, name):
        self.looked_at += 1
        return super().__getitem__(name)

    def items(self):
        self.looked_at += len(self)
        return super().items()


def test_a_structure_is_written_by_the_members_it_holds_in_the_shapes_order(monkeypatch):
    """A history event's shape has 41 members, of which an event holds about 5: moto looked at
    every one of them for every event; the seam looks at those it holds and writes them in
    moto's order, so the text is moto's, byte for byte."""
    model = get_service_model("stepfunctions")
    operation = model.operation_model("GetExecutionHistory")
    event_shape = operation.output_shape.members["events"].member
    serializer_class = get_serializer_class("stepfunctions", "json")
    original = BaseJSONSerializer._serialize_type_structure
    result = _history_result()

    def written(structure_writer) -> tuple[str, int]:
        monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", structure_writer)
        body = serializer_class(operation_model=operation).serialize(result)["body"]
        counted = _CountedMembers(event_shape.members)
        monkeypatch.setitem(event_shape.__dict__, "members", counted)
        body_again = serializer_class(operation_model=operation).serialize(result)["body"]
        monkeypatch.undo()
        assert body_again == body
        return body, counted.looked_at

    moto_body, moto_looked_at = written(original)
    seam_body, seam_looked_at = written(serialize_structure(original))
    assert seam_body == moto_body
    assert json.loads(seam_body)["events"][2]["taskScheduledEventDetails"]["timeoutInSeconds"] == 75
    held = sum(len(event) for event in result["events"])  # 5 members each
    assert moto_looked_at >= len(result["events"]) * len(event_shape.members)
    assert seam_looked_at == held, (seam_looked_at, held)
