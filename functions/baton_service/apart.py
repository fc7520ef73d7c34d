"""An execution's input and output, kept apart from its record so that the record stays under
DynamoDB's write unit.

DynamoDB bills a write at the whole item's size (the larger of before and after, a unit per
KB), and a record is written five times over a run: created, its run's ARN, its outcome, its
events published, its settlement. Its output, which holds every step's data, is kept in an item
of its own (sk OUTPUT#<run>), written once with the outcome; its input too (sk INPUT) when it would
take the record over 1 KB. The record says which (`inputApart`, `outputApart`), and readers get
it whole (`merged`), with no read more when they read the execution's partition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from baton_agent import keys
from baton_agent.records import to_json

WRITE_UNIT = 1024
"""Bytes per DynamoDB write unit."""
GROWTH = 448
"""What a record gains after its input is written, at most: the run's ARN and list of runs,
its timings, metrics and marks (test_cost.test_a_records_writes_stay_under_1_kb_whatever_the_data
measures it)."""
INPUT_FLAG = "inputApart"
"""Set on a record whose input is kept apart (sk INPUT)."""
OUTPUT_FLAG = "outputApart"
"""On a record whose output is kept apart: the run that gave it (sk OUTPUT#<run>). An output's
item is written before the outcome's conditional write; one written for an outcome that was
then not applied (the record had moved on) is under its run's key: it never replaces the
output the record flags (a replay of that run writes the same), nor is taken for it."""
FLAGS = frozenset({INPUT_FLAG, OUTPUT_FLAG})


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB measures it, or a little over: each attribute's name and
    value in UTF-8 (a number counted by its characters, where DynamoDB counts a byte per two
    digits)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Mapping[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind in ("S", "N"):
        return len(str(raw).encode()) + (1 if kind == "N" else 0)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_bytes(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in raw)
    return len(json.dumps(raw).encode())  # sets and binaries: Baton's records have none


def input_apart(record_item: Mapping[str, Any], value: Any) -> bool:
    """Whether the input `value` would take the record (`record_item`, without it) over one
    write unit, with what the record still gains (GROWTH)."""
    inline = len(b"input") + len(to_json(value).encode())
    return item_bytes(record_item) + inline + GROWTH > WRITE_UNIT


def apart_item(pk: str, sk: str, value: Any, expires_at: Any) -> dict[str, Any]:
    """The item that holds `value` apart under `sk` (it expires with the record)."""
    item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}, "value": {"S": to_json(value)}}
    if expires_at is not None:
        item["expiresAt"] = {"N": str(int(expires_at))}
    return item


def is_apart(sk: str) -> bool:
    """Whether an item of an execution's partition holds a value kept apart."""
    return sk == keys.INPUT or sk.startswith(keys.OUTPUT_PREFIX)


def merged(record: dict[str, Any], apart: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The record with the values it keeps apart in place (`apart`: the items, by sort key);
    an item the record does not flag is ignored."""
    wanted: dict[str, str] = {}
    if record.get(INPUT_FLAG):
        wanted["input"] = keys.INPUT
    if record.get(OUTPUT_FLAG):
        wanted["output"] = keys.output_sk(int(record[OUTPUT_FLAG]))
    for field, sk in wanted.items():
        if sk in apart:
            record[field] = json.loads(apart[sk]["value"]["S"])
    return record
