"""The index writes the offline meter counts for a write to the executions table, by DynamoDB's
rules for global secondary indexes, against the indexes' projection (a record's summary)."""

from __future__ import annotations

from baton.local.index_writes import index_writes
from baton_agent.tables import EXECUTIONS, LISTED, Index, TableSpec

RECORD_KEY = {"pk": {"S": "EXEC#acme#e1"}, "sk": {"S": "RECORD"}}


def update(*attributes: str, key: dict | None = None, condition: str = "") -> dict:
    names = {f"#f{i}": name for i, name in enumerate(attributes)}
    request = {
        "Key": key or RECORD_KEY,
        "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(attributes))),
        "ExpressionAttributeNames": names,
    }
    if condition:
        request["ConditionExpression"] = "#c = :c"
        request["ExpressionAttributeNames"]["#c"] = condition
    return request


def test_a_record_put_writes_each_index_once():
    item = {**RECORD_KEY, "workflowKey": {"S": "w"}, "statusKey": {"S": "s"}}
    item |= {"tenantKey": {"S": "t"}, "input": {"S": "{}"}}
    assert index_writes("PutItem", {"Item": item}) == 3


def test_an_item_without_index_keys_writes_no_index():
    item = {"pk": {"S": "EXEC#acme#e1"}, "sk": {"S": "CHECKPOINT"}, "data": {"S": "{}"}}
    assert index_writes("PutItem", {"Item": item}) == 0
    assert index_writes("UpdateItem", update("status", key=dict(item, sk={"S": "HANDOFF#1"}))) == 0


def test_a_new_status_writes_each_index_and_moves_the_record_in_the_status_index():
    assert index_writes("UpdateItem", update("status", "statusKey", "endTime", "output")) == 3 + 1


def test_marks_output_and_runs_write_no_index():
    """What the indexes do not hold: the events handler's marks, a run's ARN, the output."""
    for attribute in ("publishedRun", "notifiedRun", "settledRun", "currentRun", "output"):
        assert attribute not in LISTED
        assert index_writes("UpdateItem", update(attribute, condition="status")) == 0


def test_a_summary_field_writes_each_index_once():
    assert index_writes("UpdateItem", update("error", "metrics")) == 3


def test_a_transaction_counts_its_puts_and_updates():
    put = {"Put": {"Item": {**RECORD_KEY, "workflowKey": {"S": "w"}, "tenantKey": {"S": "t"}}}}
    check = {"ConditionCheck": {"Key": RECORD_KEY, "ConditionExpression": "#s = :s"}}
    request = {"TransactItems": [put, check, {"Update": update("status", "statusKey")}]}
    assert index_writes("TransactWriteItems", request) == 2 + 4


def test_an_index_of_every_attribute_is_written_by_any_change():
    """The projection is what spares the marks: an index holding every attribute (ALL) would be
    written by each of them."""
    everything = ("publishedRun", "notifiedRun", "settledRun", "output", *LISTED)
    spec = TableSpec(
        "executions_table",
        "executions",
        "pk",
        "sk",
        tuple(Index(i.name, i.partition_key, i.sort_key, everything) for i in EXECUTIONS.indexes),
    )
    assert index_writes("UpdateItem", update("publishedRun"), spec) == 3
