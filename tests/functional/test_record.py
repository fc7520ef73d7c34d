"""One record model: the stored record, the archived one, the API's and the CLI's views and the
record read back from a run's history are the same record (issue: two readers disagreed)."""

from __future__ import annotations

import json

from baton_service.record import ExecutionRecord
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

NAMES = ("a", "b", "c", "d")
REGISTRY = make_registry(*NAMES)


def skipping_workflow():
    """b fails its three attempts and is skipped; c fails once, then succeeds."""
    return {
        "id": "skips",
        "name": "Skips",
        "agents": list(NAMES),
        "config": {"maxRetries": 2, "autoRecovery": False},
        "fallbacks": {"b": {"strategy": "skip"}},
    }


def comparable(handoff: dict) -> dict:
    return {k: v for k, v in handoff.items() if k not in ("fromAgent", "toAgent")}


def test_stored_archived_and_history_records_agree(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in NAMES} | {
        "b": echo(calls, "b", always_fail=True),
        "c": echo(calls, "c", fail_times=1),
    }
    runtime = runtime_factory(REGISTRY, handlers)
    workflow = compiled(skipping_workflow(), REGISTRY)
    stored = runtime.services.lifecycle.get("default", runtime.execute(workflow)["executionId"])
    assert stored["status"] == "completed"
    assert stored["metrics"]["failedHandoffs"] == 4  # b three times, c once
    assert stored["metrics"]["successfulHandoffs"] == 3
    assert [(h["agent"], h.get("skipped", False)) for h in stored["handoffs"]] == [
        ("a", False),
        ("b", True),
        ("c", False),
        ("d", False),
    ]
    assert stored["handoffs"][1]["data"] == {
        "skipped": True,
        "reason": "AgentError: b failed on attempt 3",
    }

    # the record read back from the run's history, as `baton run` used to build it
    [from_history] = runtime.run_records(workflow, stored)
    assert from_history.metrics.to_json() == {
        **stored["metrics"],
        "totalExecutionTime": from_history.metrics.total_execution_time,
    }
    assert [comparable(h.to_json()) for h in from_history.handoffs] == [
        comparable(h) for h in stored["handoffs"]
    ]

    # the archive is the stored record with every run's handoffs
    archived = json.loads(
        runtime.services.s3.get_object(
            Bucket=runtime.manifest.archive_bucket,
            Key=f"default/skips/{stored['executionId']}.json",
        )["Body"].read()
    )
    view_only = ("checkpoint", "currentStep")
    assert {k: v for k, v in stored.items() if k not in view_only} == archived

    # and every one of them is the one model, unchanged by a round trip through it
    for record in (stored, archived):
        assert ExecutionRecord.model_validate(record).to_json() == record


def test_a_timeout_reads_the_same_in_the_record_and_the_run_view(runtime_factory):
    registry = make_registry("a", "b")
    handlers = {"a": echo(Calls(), "a"), "b": echo(Calls(), "b", sleep=3)}
    runtime = runtime_factory(registry, handlers)
    definition = {
        "id": "slow",
        "name": "Slow",
        "agents": ["a", "b"],
        "config": {"timeout": "1s", "autoRecovery": False},
    }
    workflow = compiled(definition, registry)
    stored = runtime.execute(workflow)
    [from_history] = runtime.run_records(workflow, stored)
    assert stored["endTime"] is not None  # moto leaves a timed-out run's stop date out; AWS not
    assert stored["error"] == from_history.error.to_json()
    assert stored["error"]["message"] == "workflow timed out after 1s while b was running"
