"""What keeps the offline runtime's cost per execution flat as executions accumulate (issue
10): a Query on a table's key reads its partition only, and the queue tapping Baton's events
is emptied as the events come."""

from __future__ import annotations

from baton.local import patches
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a", "b")


def test_a_query_by_key_reads_its_partition_not_the_whole_table(runtime_factory, monkeypatch):
    import boto3

    runtime = runtime_factory(REGISTRY)
    table = runtime.manifest.tables["executions"].name
    client = boto3.client("dynamodb")
    for n in range(200):  # other executions' items
        client.put_item(TableName=table, Item={"pk": {"S": f"EXEC#t#{n}"}, "sk": {"S": "R"}})
    for sk in ("HANDOFF#3", "HANDOFF#1", "HANDOFF#2", "CHECKPOINT"):
        client.put_item(TableName=table, Item={"pk": {"S": "EXEC#t#mine"}, "sk": {"S": sk}})
    scans = []
    whole_table = patches.PARTITION_QUERIES.all_items
    monkeypatch.setattr(
        patches.PARTITION_QUERIES, "all_items", lambda t: scans.append(t) or whole_table(t)
    )
    # the seam was installed with the original bound in: count through moto's own entry
    monkeypatch.setattr(patches.MotoTable, "all_items", patches.PARTITION_QUERIES.wrap_all_items())
    page = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
        ExpressionAttributeValues={":pk": {"S": "EXEC#t#mine"}, ":h": {"S": "HANDOFF#"}},
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["HANDOFF#1", "HANDOFF#2", "HANDOFF#3"]
    assert scans == []  # the partition was read directly
    client.scan(TableName=table, Limit=1)  # anything else still reads as moto does
    whole = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "EXEC#t#7"}},
        ScanIndexForward=False,
    )
    assert [i["sk"]["S"] for i in whole["Items"]] == ["R"]


def test_the_event_tap_is_emptied_as_events_come(runtime_factory):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in ("a", "b")})
    workflow = compiled({"id": "tap", "name": "Tap", "agents": ["a", "b"]}, REGISTRY)
    for _ in range(3):
        assert runtime.execute(workflow)["status"] == "completed"
    services = runtime.services
    waiting = services.sqs.get_queue_attributes(
        QueueUrl=services.tap_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert waiting == "0"  # nothing left to slow the next publish down
    kinds = [e["detail-type"] for e in services.events()]
    assert kinds.count("Workflow Completed") == 3 and kinds.count("Agent Completed") == 6
    assert services.events() == []  # taken once
