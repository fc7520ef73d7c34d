"""Scheduled starts through the scheduler Lambda, configured as the stack configures it: the
execution gets a record and events like any other, once per scheduled time."""

from __future__ import annotations

import pytest

from baton.local.fake_lambda import FakeLambdaContext
from baton_service.schedules import ScheduledStartError
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo
from tests.functional.deployed import configure_like_the_stack

REGISTRY = make_registry("a", "b")
DEFINITION = """\
id: nightly
name: Nightly
agents: [a, b]
schedule:
  expression: cron(0 2 * * ? *)
  timezone: Europe/Paris
  tenant: acme
  input: {region: eu}
"""


@pytest.fixture
def scheduler(runtime_factory, monkeypatch, tmp_path):
    from baton_agent.settings import get_settings
    from schedules import handler as scheduler_lambda

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a"), "b": echo(calls, "b")})
    runtime.deploy(compiled(DEFINITION, REGISTRY))
    configure_like_the_stack(runtime, runtime.manifest.scheduler_function, monkeypatch, tmp_path)
    scheduler_lambda.lifecycle.cache_clear()
    yield scheduler_lambda, runtime, calls
    get_settings.cache_clear()
    scheduler_lambda.lifecycle.cache_clear()


def test_a_scheduled_time_starts_one_execution_with_a_record_and_events(scheduler):
    scheduler_lambda, runtime, calls = scheduler
    schedule = runtime.manifest.workflows["nightly"].schedule
    event = schedule.target_input("nightly", "2026-11-27T01:00:00Z")  # as Scheduler sends it
    first = scheduler_lambda.handler(event, FakeLambdaContext("baton-scheduler"))
    again = scheduler_lambda.handler(event, FakeLambdaContext("baton-scheduler"))  # redelivered
    assert again["executionId"] == first["executionId"]
    record = runtime.services.settle("acme", first["executionId"])
    assert record["status"] == "completed"
    assert record["output"]["region"] == "eu"
    assert calls.agents() == ["a", "b"]
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert kinds.count("Workflow Completed") == 1
    # the next occurrence is another execution
    later = scheduler_lambda.handler(
        schedule.target_input("nightly", "2026-11-28T01:00:00Z"), FakeLambdaContext("s")
    )
    assert later["executionId"] != first["executionId"]


@pytest.mark.parametrize(
    "event",
    [
        {"workflowId": "nightly", "tenant": "acme#corp", "scheduledTime": "t", "input": {}},
        {"workflowId": "nightly", "tenant": "acme", "input": {}},
        {"tenant": "acme", "scheduledTime": "t"},
        {"workflowId": "nightly", "tenant": "acme", "scheduledTime": "t", "input": [1]},
    ],
)
def test_a_malformed_scheduler_event_is_refused_clearly(scheduler, event):
    scheduler_lambda, _, calls = scheduler
    with pytest.raises(ScheduledStartError):
        scheduler_lambda.handler(event, FakeLambdaContext("baton-scheduler"))
    assert calls.agents() == []
