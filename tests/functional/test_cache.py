"""The result cache offline: hits within the TTL, misses after it, per tenant, and --no-cache."""

from __future__ import annotations

import boto3
import pytest

from baton_agent.cache import DynamoResultCache
from baton_agent.settings import get_settings
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

REGISTRY = make_registry("a", "b", a={"cache": {"ttl": "60s"}})
WORKFLOW = {"id": "cached", "name": "Cached", "agents": ["a", "b"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def setup(runtime_factory, clock):
    calls = Calls()

    def dynamo_cache() -> DynamoResultCache:
        return DynamoResultCache(get_settings().cache_table, boto3.client("dynamodb"), clock=clock)

    handlers = {"a": echo(calls, "a", cache=dynamo_cache, accuracy=97), "b": echo(calls, "b")}
    runtime = runtime_factory(REGISTRY, handlers)
    return runtime, compiled(WORKFLOW, REGISTRY), calls


def test_second_run_within_ttl_is_served_from_the_cache(setup):
    runtime, workflow, calls = setup
    first = runtime.run(workflow, {"q": 1})
    second = runtime.run(workflow, {"q": 1})
    assert calls.count("a") == 1
    assert calls.count("b") == 2
    hit = second.handoff("a")
    assert hit.cached is True
    assert hit.validated_by == ["cache"]
    assert hit.accuracy == 97
    assert hit.data == first.handoff("a").data
    assert first.handoff("a").cached is False
    assert second.output["a"] == 1


def test_after_the_ttl_the_agent_runs_again(setup, clock):
    runtime, workflow, calls = setup
    runtime.run(workflow, {"q": 1})
    clock.now += 59
    runtime.run(workflow, {"q": 1})
    assert calls.count("a") == 1
    clock.now += 2
    record = runtime.run(workflow, {"q": 1})
    assert calls.count("a") == 2
    assert record.handoff("a").cached is False


def test_other_input_is_a_miss(setup):
    runtime, workflow, calls = setup
    runtime.run(workflow, {"q": 1})
    runtime.run(workflow, {"q": 2})
    assert calls.count("a") == 2


def test_tenants_never_share_cached_results(setup):
    runtime, workflow, calls = setup
    runtime.run(workflow, {"q": 1}, tenant="tenant-a")
    record = runtime.run(workflow, {"q": 1}, tenant="tenant-b")
    assert calls.count("a") == 2
    assert record.handoff("a").cached is False
    runtime.run(workflow, {"q": 1}, tenant="tenant-b")
    assert calls.count("a") == 2


def test_no_cache_runs_the_agent(setup):
    runtime, workflow, calls = setup
    runtime.run(workflow, {"q": 1})
    record = runtime.run(workflow, {"q": 1}, no_cache=True)
    assert calls.count("a") == 2
    assert record.handoff("a").cached is False


@pytest.mark.parametrize("stored_at", [1_000_000.0, 1_000_000.999, 1_000_000.4999])
def test_an_entry_is_a_hit_until_its_ttl_has_passed_to_the_millisecond(setup, clock, stored_at):
    """A 60 s entry stored at a fractional second used to expire up to 1 s early."""
    runtime, workflow, calls = setup
    clock.now = stored_at
    runtime.run(workflow, {"q": 1})
    clock.now = stored_at + 59.998
    assert runtime.run(workflow, {"q": 1}).handoff("a").cached is True
    clock.now = stored_at + 60.001
    assert runtime.run(workflow, {"q": 1}).handoff("a").cached is False
    assert calls.count("a") == 2
    item = boto3.client("dynamodb").scan(TableName=get_settings().cache_table)["Items"][0]
    assert int(item["expiresAt"]["N"]) >= stored_at + 60.001 + 60  # TTL never deletes a live one
