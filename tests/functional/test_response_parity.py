"""Offline responses written without moto's full model walk (baton.local.seams.attribute_values) read
exactly as moto's own: the same calls answered both ways, compared as boto3 parses them."""

from __future__ import annotations

import pytest
from moto.core.serialize import BaseJSONSerializer

from baton_agent.tables import EXECUTIONS
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

pytestmark = pytest.mark.xdist_group("offline")
REGISTRY = make_registry("a", "b", "c", "d", "e", "x", "y", "z")
DEFINITION = {
    "id": "parity",
    "name": "Parity",
    "agents": ["a", "b", "c", "d", "e", "x", "y", "z"],
    "initialData": {"price": 5, "text": 'say "hi" \\ ünï'},
    "config": {"parallelGroups": [["b", "c"], ["d", "e"]], "maxRetries": 1},
    "fallbacks": {"d": {"strategy": "skip"}},  # d and e differ: a Parallel state
    "conditions": [{"after": "x", "when": "price > 1", "then": ["y"], "else": ["z"]}],
}


def _both_ways(monkeypatch, call):
    """The call answered with the direct writer, then with moto's own walk."""
    direct = call()
    patched = BaseJSONSerializer._serialize_type_structure
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched.original)
    try:
        walked = call()
    finally:
        monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", patched)
    for response in (direct, walked):
        response.pop("ResponseMetadata", None)
    return direct, walked


def test_histories_records_and_items_read_the_same_either_way(runtime_factory, monkeypatch):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in "abcexyz"}
    handlers["d"] = echo(calls, "d", always_fail=True)  # retried, failed, skipped
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(DEFINITION, REGISTRY)
    record = runtime.execute(workflow)
    assert record["status"] == "completed"
    run = record["currentRun"]
    table = runtime.manifest.table(EXECUTIONS).name
    calls_to_compare = {
        "history": lambda: runtime.sfn.get_execution_history(executionArn=run, maxResults=1000),
        "execution": lambda: runtime.sfn.describe_execution(executionArn=run),
        "executions": lambda: runtime.sfn.list_executions(stateMachineArn=runtime.deploy(workflow)),
        "state machine": lambda: runtime.sfn.describe_state_machine(
            stateMachineArn=runtime.deploy(workflow)
        ),
        "handoffs": lambda: runtime.dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"EXEC#default#{record['executionId']}"}},
        ),
        "function": lambda: runtime.lambda_.get_function(FunctionName="baton-agent-a"),
    }
    kinds = set()
    for name, call in calls_to_compare.items():
        direct, walked = _both_ways(monkeypatch, call)
        assert direct == walked, name
        if name == "history":
            kinds = {event["type"] for event in direct["events"]}
    # the history held every kind of event the walker could have written differently
    assert {
        "TaskFailed",
        "MapIterationStarted",
        "ParallelStateStarted",
        "ChoiceStateEntered",
        "TaskSucceeded",
    } <= kinds
