"""Large data by reference (claim check): values over the budget travel as references to the
payload bucket, every agent sees them whole, and nothing Step Functions or DynamoDB carries
passes its limit: no States.DataLimitExceeded, no record over 400 KB."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any

import pytest

from baton_agent import AgentResult, agent
from baton_agent.payloads import REF, ClaimCheck, S3PayloadStore, is_reference
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

TEXT = "é" * 153_600
"""300 KiB of UTF-8 (two bytes a character)."""
MAX_STATE_BYTES = 262_144
MAX_ITEM_BYTES = 400_000


def claims(runtime: Any, tenant: str = "default") -> ClaimCheck:
    store = S3PayloadStore(runtime.manifest.payload_bucket, lambda: runtime.services.s3)
    return ClaimCheck(store, tenant)


def largest_state_payload(runtime: Any, run: str) -> int:
    """The largest input, output or parameters any event of the run carried (UTF-8 bytes)."""
    sizes = [0]
    for event in runtime.history(run):
        for key, detail in event.items():
            if key.endswith("EventDetails") and isinstance(detail, dict):
                for field in ("input", "output", "parameters"):
                    if isinstance(detail.get(field), str):
                        sizes.append(len(detail[field].encode()))
    return max(sizes)


def largest_item(runtime: Any) -> int:
    """The largest item of the executions table, counted as DynamoDB does (names + values)."""
    import boto3

    table = runtime.manifest.tables["executions"].name
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return max(
        sum(len(name.encode()) + len(json.dumps(value).encode()) for name, value in item.items())
        for item in items
    )


def test_a_300_kib_result_travels_by_reference_and_every_reader_gets_it_whole(runtime_factory):
    registry = make_registry("a", "b", "c", b={"cache": {"ttl": "1h"}})
    calls = Calls()
    seen: list[str] = []

    @agent
    def writer(data, context):
        calls.add(agent="b")
        return AgentResult(data={"text": TEXT, "length": len(TEXT)})

    @agent
    def reader(data, context):
        seen.append(data["text"])
        return AgentResult(data={"read": len(data["text"])})

    @agent
    def ready(data, context):
        return AgentResult(data={"ready": True})

    runtime = runtime_factory(registry, {"a": ready, "b": writer, "c": reader})
    workflow = compiled({"id": "big", "name": "Big", "agents": ["a", "b", "c"]}, registry)
    record = runtime.execute(workflow, {})
    assert record["status"] == "completed", record.get("error")
    assert seen == [TEXT]  # the next agent read it whole
    assert largest_state_payload(runtime, record["currentRun"]) <= MAX_STATE_BYTES
    history = runtime.history(record["currentRun"])
    assert not [e for e in history if "Failed" in e["type"]]

    # the record keeps the reference; the payload bucket holds the value, checked by digest
    output = record["output"]
    assert is_reference(output["text"]) and output["read"] == len(TEXT) == output["length"]
    assert claims(runtime).resolve(output)["text"] == TEXT
    [b] = [h for h in record["handoffs"] if h["agent"] == "b"]
    assert b["data"]["text"] == output["text"]
    assert largest_item(runtime) < MAX_ITEM_BYTES

    # the archive is whole; the events were published
    archived = json.loads(
        runtime.services.s3.get_object(
            Bucket=runtime.manifest.archive_bucket,
            Key=f"default/big/{record['executionId']}.json",
        )["Body"].read()
    )
    assert archived["output"]["text"] == TEXT
    assert [h["data"] for h in archived["handoffs"] if h["agent"] == "b"] == [
        {"text": TEXT, "length": len(TEXT)}
    ]
    kinds = [
        e["detail-type"]
        for e in runtime.services.events()
        if e["detail"].get("executionId") == record["executionId"]
    ]
    assert kinds.count("Workflow Completed") == 1 and kinds.count("Agent Completed") == 3

    # a second run takes b's result from the cache (the reference, not 300 KiB in DynamoDB)
    again = runtime.execute(workflow, {})
    assert again["status"] == "completed", again.get("error")
    [cached] = [h for h in again["handoffs"] if h["agent"] == "b"]
    assert cached["cached"] is True and cached["data"]["text"] == output["text"]
    assert calls.count("b") == 1 and seen == [TEXT, TEXT]


def test_a_large_input_is_kept_by_reference_and_agents_see_it_whole(runtime_factory):
    registry = make_registry("a")
    seen: list[int] = []

    @agent
    def adds(data, context):
        seen.append(len(data["already"]))
        return AgentResult(data={"more": "x" * 100_000})

    runtime = runtime_factory(registry, {"a": adds})
    workflow = compiled({"id": "grow", "name": "Grow", "agents": ["a"]}, registry)
    record = runtime.execute(workflow, {"already": "y" * 300_000, "small": 1})
    assert record["status"] == "completed", record.get("error")
    assert seen == [300_000]
    assert is_reference(record["input"]["already"]) and record["input"]["small"] == 1
    whole = claims(runtime).resolve(record["output"])
    assert whole == {"already": "y" * 300_000, "small": 1, "more": "x" * 100_000}
    assert largest_item(runtime) < MAX_ITEM_BYTES


def test_fields_a_condition_reads_stay_inline(runtime_factory):
    registry = make_registry("a", "b", "c")
    calls = Calls()

    @agent
    def measures(data, context):
        return AgentResult(data={"text": TEXT, "size": len(TEXT)})

    runtime = runtime_factory(
        registry, {"a": measures, "b": echo(calls, "b"), "c": echo(calls, "c")}
    )
    definition = {
        "id": "cond",
        "name": "Cond",
        "agents": ["a", "b", "c"],
        "config": {"autoRecovery": False},
        "conditions": [{"after": "a", "when": "size > 100", "then": ["b"], "else": ["c"]}],
    }
    record = runtime.execute(compiled(definition, registry), {})
    assert record["status"] == "completed", record.get("error")
    assert calls.agents() == ["b"]
    assert is_reference(record["output"]["text"]) and record["output"]["size"] == len(TEXT)

    # a condition reading the large field itself: it cannot move, and the error says why
    definition["conditions"][0]["when"] = "$length(text) > 100"
    failed = runtime.execute(compiled({**definition, "id": "cond2"}, registry), {})
    assert failed["status"] == "failed"
    assert failed["error"]["errorType"] == "AgentInputError"
    message = failed["error"]["message"]
    assert message.startswith("PayloadTooLargeError: agent a: its result is 307,")
    assert "Fields conditions or fan-outs read stay inline: 'text' (307,202 bytes)" in message
    assert [h["agent"] for h in failed["handoffs"]] == []  # refused before any write


def test_group_members_share_what_the_data_leaves(runtime_factory):
    registry = make_registry("a", "b", "c")
    seen: list[tuple[int, int]] = []

    def big(name):
        @agent
        def handler(data, context):
            return AgentResult(data={name: name * 150_000})

        return handler

    @agent
    def reader(data, context):
        seen.append((len(data["a"]), len(data["b"])))
        return AgentResult(data={})

    runtime = runtime_factory(registry, {"a": big("a"), "b": big("b"), "c": reader})
    definition = {
        "id": "fan",
        "name": "Fan",
        "agents": ["a", "b", "c"],
        "config": {"parallelGroups": [["a", "b"]]},
    }
    record = runtime.execute(compiled(definition, registry), {"note": "n" * 120_000})
    assert record["status"] == "completed", record.get("error")
    assert seen == [(150_000, 150_000)]
    assert largest_state_payload(runtime, record["currentRun"]) <= MAX_STATE_BYTES


def test_references_resolve_only_to_the_runs_own_tenants_payloads(runtime_factory):
    registry = make_registry("a")
    calls = Calls()
    runtime = runtime_factory(registry, {"a": echo(calls, "a")})
    workflow = compiled(
        {"id": "refs", "name": "Refs", "agents": ["a"], "config": {"autoRecovery": False}},
        registry,
    )
    runtime.deploy(workflow)
    secret = claims(runtime, "other").reference({"card": "4111"}, "a test value")
    lifecycle = runtime.services.lifecycle
    started = lifecycle.start("refs", {"x": secret}, tenant="acme")
    failed = runtime.services.settle("acme", started["executionId"])
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == (
        f"PayloadReferenceError: data.x refers to '{secret[REF]}', which is not a payload of "
        "tenant 'acme'"
    )
    assert calls.agents() == []  # the agent never saw it

    # an object that does not match the digest its key names is refused too
    body = json.dumps({"card": "4111"}).encode()
    key = f"acme/{hashlib.sha256(b'something else').hexdigest()}"
    runtime.services.s3.put_object(Bucket=runtime.manifest.payload_bucket, Key=key, Body=body)
    started = lifecycle.start("refs", {"x": {REF: key, "bytes": len(body)}}, tenant="acme")
    failed = runtime.services.settle("acme", started["executionId"])
    assert failed["error"]["message"] == (
        f"PayloadReferenceError: payload '{key}' (data.x) does not match its digest"
    )


@pytest.mark.parametrize("outage", [6, 30], ids=["one attempt", "every attempt"])
def test_s3_unavailable_during_an_offload_loses_nothing(runtime_factory, outage, monkeypatch):
    """S3 answers 503 Slow Down: botocore retries (5 tries), then the attempt fails with
    PayloadStoreError before anything is recorded and Step Functions retries the step. When S3
    stays down past every retry, the run fails at that step and a resume completes it."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    from baton_agent import runtime as agent_runtime

    registry = make_registry("a", "b", "c")
    calls = Calls()

    @agent
    def writer(data, context):
        calls.add(agent="b", attempt=context.attempt)
        return AgentResult(data={"text": TEXT})

    runtime = runtime_factory(registry, {"a": echo(calls, "a"), "b": writer, "c": echo(calls, "c")})
    answers = {"left": outage}

    def slow_down(request, **_):
        if answers["left"] == 0:
            return None
        answers["left"] -= 1
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return AWSResponse(request.url, 503, {}, MockRawResponse(body))

    waits: list[float] = []  # botocore's backoff between tries, recorded instead of slept
    monkeypatch.setattr("botocore.endpoint.time", SimpleNamespace(sleep=waits.append))
    client = agent_runtime._s3()
    client.meta.events.register("before-send.s3.PutObject", slow_down)
    definition = {
        "id": "outage",
        "name": "Outage",
        "agents": ["a", "b", "c"],
        "config": {"autoRecovery": False},
    }
    try:
        record = runtime.execute(compiled(definition, registry), {})
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", slow_down)
    failures = [
        e["taskFailedEventDetails"]["error"]
        for e in runtime.history(record["currentRun"])
        if e["type"] == "TaskFailed"
    ]
    assert len(waits) >= 5 and all(0 <= w <= 20 for w in waits)  # jittered, capped
    if outage == 6:  # the first attempt's five tries, and one of the second's
        assert record["status"] == "completed", record.get("error")
        assert failures == ["PayloadStoreError"]
        assert [(h["agent"], h["attempt"]) for h in record["handoffs"]] == [
            ("a", 1),
            ("b", 2),
            ("c", 1),
        ]
        return
    assert record["status"] == "failed"
    assert failures == ["PayloadStoreError"] * 4  # the first attempt and its three retries
    assert "could not store agent b: its result field 'text'" in record["error"]["message"]
    assert [h["agent"] for h in record["handoffs"]] == ["a"]
    assert record["checkpoint"]["after"] == "a"
    runtime.services.lifecycle.resume("default", record["executionId"])
    done = runtime.services.settle("default", record["executionId"])
    assert done["status"] == "completed", done.get("error")
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b", "c"]
    assert calls.agents() == ["a", "b", "b", "b", "b", "b", "c"]


def test_a_group_after_nearly_full_data_moves_the_datas_large_values_not_its_own_small_ones(
    runtime_factory,
):
    """a leaves 195 KB of data; each of four members returns 3 KB of small values (none large
    enough to move). The members move a's large value for the whole group, and all fit."""
    registry = make_registry("a", "m1", "m2", "m3", "m4", "z")
    seen: list[int] = []

    @agent
    def fills(data, context):
        return AgentResult(data={"big": "b" * 150_000, "rest": "r" * 45_000})

    def member(name):
        @agent
        def handler(data, context):
            return AgentResult(data={f"{name}_{j}": "y" * 100 for j in range(30)})

        return handler

    @agent
    def reads(data, context):
        seen.append(len(data["big"]) + sum(1 for k in data if "_" in k))
        return AgentResult(data={})

    handlers = {"a": fills, "z": reads} | {m: member(m) for m in ("m1", "m2", "m3", "m4")}
    runtime = runtime_factory(registry, handlers)
    definition = {
        "id": "full",
        "name": "Full",
        "agents": ["a", "m1", "m2", "m3", "m4", "z"],
        "config": {"autoRecovery": False, "parallelGroups": [["m1", "m2", "m3", "m4"]]},
    }
    record = runtime.execute(compiled(definition, registry), {})
    assert record["status"] == "completed", record.get("error")
    assert seen == [150_000 + 120]
    assert is_reference(record["output"]["big"])
    assert largest_state_payload(runtime, record["currentRun"]) <= MAX_STATE_BYTES


def test_fan_out_items_larger_than_their_share_travel_whole_by_reference(runtime_factory):
    registry = make_registry("a", "b")
    seen: list[list[int]] = []

    @agent
    def page(data, context):
        return AgentResult(data={"index": context.index, "html": "h" * 30_000})

    @agent
    def reads(data, context):
        seen.append([len(r["html"]) for r in data["listResults"]])
        return AgentResult(data={})

    runtime = runtime_factory(registry, {"a": page, "b": reads})
    definition = {
        "id": "pages",
        "name": "Pages",
        "agents": ["a", "b"],
        "config": {"autoRecovery": False},
        "forEach": {"a": "list"},
    }
    record = runtime.execute(compiled(definition, registry), {"list": list(range(10))})
    assert record["status"] == "completed", record.get("error")
    assert seen == [[30_000] * 10]  # 300 KB of results, each item whole for the next agent
    assert all(is_reference(r) for r in record["output"]["listResults"])
    assert largest_state_payload(runtime, record["currentRun"]) <= MAX_STATE_BYTES


@pytest.mark.parametrize(("limit", "moved"), [(None, False), ("64KiB", True)])
def test_the_inline_limit_is_the_workflows_to_lower(runtime_factory, limit, moved):
    registry = make_registry("a", "b")
    seen: list[int] = []

    @agent
    def writes(data, context):
        return AgentResult(data={"text": "t" * 100_000})

    @agent
    def reads(data, context):
        seen.append(len(data["text"]))
        return AgentResult(data={})

    runtime = runtime_factory(registry, {"a": writes, "b": reads})
    config = {"autoRecovery": False} | ({"inlineLimit": limit} if limit else {})
    definition = {"id": "limit", "name": "Limit", "agents": ["a", "b"], "config": config}
    record = runtime.execute(compiled(definition, registry), {})
    assert record["status"] == "completed", record.get("error")
    assert seen == [100_000]
    assert is_reference(record["handoffs"][0]["data"]["text"]) is moved
