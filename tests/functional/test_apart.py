"""An execution's output, and an input too large for the record, are kept in items of their
own (baton_service.apart): the record stays one write unit, and every reader still gets the
execution whole."""

from __future__ import annotations

from baton_agent import AgentInputError, AgentResult, agent, keys
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls

REGISTRY = make_registry("a")
DEFINITION = {"id": "apart", "name": "Apart", "agents": ["a"]}
BIG = {"text": "x" * 20_000, "n": 7}


def _partition(runtime, execution_id: str) -> dict[str, dict]:
    table = runtime.manifest.tables["executions"].name
    items = runtime.dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.execution_pk("default", execution_id)}},
    )["Items"]
    return {item["sk"]["S"]: item for item in items}


def test_a_large_input_is_kept_apart_and_a_resume_from_the_start_reads_it_whole(
    runtime_factory,
):
    """The run fails at its first step (nothing checkpointed), so the resume starts over from
    the execution's input: read back from its own item, whole."""
    calls = Calls()

    @agent
    def a(data, context):
        calls.add(agent="a", run=context.run, size=len(data["text"]))
        if context.run == 1:
            raise AgentInputError("not this time")
        return AgentResult(data={"a": data["n"] * 2})

    runtime = runtime_factory(REGISTRY, {"a": a})
    lifecycle = runtime.services.lifecycle
    started = runtime.execute(compiled(DEFINITION, REGISTRY), BIG, settle=False)
    assert started["input"] == BIG  # the start's answer shows it, though the record holds none
    execution_id = started["executionId"]
    assert runtime.services.settle("default", execution_id)["status"] == "failed"
    items = _partition(runtime, execution_id)
    assert "input" not in items[keys.RECORD] and keys.INPUT in items
    assert lifecycle.get("default", execution_id, with_handoffs=False)["input"] == BIG

    lifecycle.resume("default", execution_id)
    done = runtime.services.settle("default", execution_id)
    assert done["status"] == "completed", done.get("error")
    assert [c["size"] for c in calls.of("a")] == [20_000, 20_000]
    assert done["input"] == BIG and done["output"] == {**BIG, "a": 14}
    items = _partition(runtime, execution_id)
    assert "output" not in items[keys.RECORD] and keys.output_sk(2) in items
    assert not {"inputApart", "outputApart"} & set(done)  # the flags are not shown


def test_an_output_whose_outcome_was_not_applied_is_never_shown(runtime_factory):
    """The output's item is written before the outcome's conditional write: when that write
    does not happen (the record moved on), the record does not flag the output, and no reader
    takes it for the execution's."""
    runtime = runtime_factory(REGISTRY, {"a": lambda event, context: {"data": {}}})
    done = runtime.execute(compiled(DEFINITION, REGISTRY), {"n": 1})
    execution_id = done["executionId"]
    store = runtime.services.lifecycle.store
    changes = {"status": "completed", "output": {"stale": True}}
    assert not store.update(
        "default", execution_id, changes, only_if_status=("paused",), once_for_run=2
    )
    assert keys.output_sk(2) in _partition(runtime, execution_id)
    assert runtime.services.lifecycle.get("default", execution_id)["output"] == done["output"]
    assert store.get("default", execution_id)["output"] == done["output"]
