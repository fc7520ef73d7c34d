"""`baton serve --state DIR`: executions, cached results, statistics and archives saved to a
folder survive a restart; a run going when the state was saved is failed on restore and can be
resumed; a damaged state folder is refused with the file named."""

from __future__ import annotations

import json
import threading

import boto3
import pytest

from baton.local.runtime import REGION
from baton.local.state import StateError, StateFolder
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo, wait_until

pytestmark = pytest.mark.xdist_group("offline")

REGISTRY = make_registry("a", "b")
WORKFLOW = {
    "id": "kept",
    "name": "Kept",
    "agents": ["a", "b"],
    "config": {"maxRetries": 0},
    "cache": {"a": {"ttl": "1h"}},
}


def saved(runtime, folder) -> StateFolder:
    state = StateFolder(folder, runtime.manifest, boto3, REGION)
    state.save()
    return state


def stopped(runtime) -> None:
    """The server stops: its emulator goes (one offline runtime at a time in a process)."""
    runtime.__exit__(None, None, None)


def restored(runtime_factory, folder, handlers, workflow=None):
    runtime = runtime_factory(REGISTRY, handlers)
    runtime.deploy(workflow or compiled(WORKFLOW, REGISTRY))
    result = StateFolder(folder, runtime.manifest, boto3, REGION).restore(
        runtime.services.lifecycle.store
    )
    return runtime, result


def test_executions_cache_and_statistics_survive_a_restart(runtime_factory, tmp_path):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in ("a", "b")}
    first = runtime_factory(REGISTRY, handlers)
    done = first.execute(compiled(WORKFLOW, REGISTRY))
    assert done["status"] == "completed"
    saved(first, tmp_path)
    assert (tmp_path / "state.json").is_file()
    stopped(first)

    second, result = restored(runtime_factory, tmp_path, handlers)
    assert result.items >= 4 and result.objects >= 1 and result.interrupted == []
    kept = second.services.lifecycle.get("default", done["executionId"])
    assert kept["status"] == "completed" and [h["agent"] for h in kept["handoffs"]] == ["a", "b"]
    again = second.execute(compiled(WORKFLOW, REGISTRY))
    assert [h["cached"] for h in again["handoffs"]] == [True, False]  # a's result was kept
    assert calls.count("a") == 1 and calls.count("b") == 2
    listed, _ = second.services.lifecycle.list_executions("default", workflow_id="kept")
    assert {e["executionId"] for e in listed} == {done["executionId"], again["executionId"]}
    archive = second.services.s3.list_objects_v2(Bucket=second.manifest.archive_bucket)
    assert len(archive["Contents"]) == 2


@pytest.mark.parametrize("kind", ["standard", "express"])
def test_a_run_going_when_saved_is_failed_on_restore_and_resumes_after_its_last_step(
    runtime_factory, tmp_path, kind
):
    calls, release = Calls(), threading.Event()

    def held(data, context):
        calls.add(agent="b")
        assert release.wait(10), "the test never released b"
        return {"b": True}

    from baton_agent import agent

    handlers = {"a": echo(calls, "a"), "b": agent(held)}
    first = runtime_factory(REGISTRY, handlers)
    workflow = compiled({**WORKFLOW, "type": kind}, REGISTRY)
    execution_id = first.execute(workflow, settle=False)["executionId"]
    wait_until(lambda: calls.count("b") == 1)
    saved(first, tmp_path)  # a is done, b is running
    release.set()
    assert first.services.settle("default", execution_id)["status"] == "completed"
    stopped(first)

    second, result = restored(
        runtime_factory, tmp_path, {n: echo(calls, n) for n in ("a", "b")}, workflow
    )
    assert result.interrupted == [execution_id]
    record = second.services.lifecycle.get("default", execution_id)
    assert record["status"] == "failed"
    assert record["error"]["errorType"] == "ServerRestarted"
    second.services.lifecycle.resume("default", execution_id)
    resumed = second.services.settle("default", execution_id)
    assert resumed["status"] == "completed"
    assert calls.count("a") == 1  # resumed after a, its last completed step


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("state.json", "{not json", "not a saved Baton state (Expecting property name"),
        ("state.json", '{"version": 99}', "not a saved Baton state of format 1"),
        ("dynamodb/baton-executions.json", '{"version": 1, "items": {}}', "`items` must be a list"),
        (
            "dynamodb/baton-executions.json",
            '{"version": 1, "items": [{"pk": {"S": "x"}}]}',
            "an item cannot be restored",
        ),
    ],
)
def test_a_damaged_state_folder_is_refused_with_the_file_named(
    runtime_factory, tmp_path, file, content, message
):
    runtime = runtime_factory(REGISTRY, {})
    state = saved(runtime, tmp_path)
    (tmp_path / file).write_text(content)
    with pytest.raises(StateError) as caught:
        state.restore(runtime.services.lifecycle.store)
    assert str(caught.value).startswith(f"{tmp_path / file}: ")
    assert message in str(caught.value)


def test_object_keys_are_files_inside_the_folder_whatever_they_hold(runtime_factory, tmp_path):
    runtime = runtime_factory(REGISTRY, {})
    s3 = runtime.services.s3
    s3.put_object(Bucket=runtime.manifest.payload_bucket, Key="../../escape/..\\x", Body=b"1")
    saved(runtime, tmp_path)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(tmp_path in p.parents for p in written)
    assert json.loads((tmp_path / "state.json").read_text())["version"] == 1
    stopped(runtime)
    other = runtime_factory(REGISTRY, {})
    assert (
        StateFolder(tmp_path, other.manifest, boto3, REGION)
        .restore(other.services.lifecycle.store)
        .objects
        == 1
    )
    body = other.services.s3.get_object(
        Bucket=other.manifest.payload_bucket, Key="../../escape/..\\x"
    )["Body"].read()
    assert body == b"1"
