"""The events Lambda handler, configured from its environment as the stack will configure it."""

from __future__ import annotations

import json

from baton.local.patches import FakeLambdaContext
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo
from tests.functional.deployed import configure_like_the_stack

REGISTRY = make_registry("a", "b")


def test_the_events_lambda_keeps_the_record_from_its_environment(
    runtime_factory, monkeypatch, tmp_path
):
    from baton_agent.settings import get_settings
    from events import handler as events_lambda

    runtime = runtime_factory(REGISTRY, {"a": echo(Calls(), "a"), "b": echo(Calls(), "b")})
    workflow = compiled({"id": "lam", "name": "Lam", "agents": ["a", "b"]}, REGISTRY)
    runtime.deploy(workflow)
    configure_like_the_stack(runtime, runtime.manifest.events_function, monkeypatch, tmp_path)
    events_lambda.status_change_handler.cache_clear()
    try:
        started = runtime.execute(workflow, {"x": 1}, settle=False)
        run = started["currentRun"]
        runtime.wait(run)
        event = runtime.services.status_change_event(run)
        result = events_lambda.handler(event, FakeLambdaContext("baton-events"))
        stranger = {"tenant": "t", "executionId": "nope"}
        unknown = {
            **event,
            "detail": {**event["detail"], "input": json.dumps(stranger), "name": "nope-1"},
        }
        ignored = events_lambda.handler(unknown, FakeLambdaContext("baton-events"))
    finally:
        get_settings.cache_clear()
        events_lambda.status_change_handler.cache_clear()

    assert result == {"status": "completed", "triggered": []}
    record = runtime.services.lifecycle.get("default", started["executionId"])
    assert record["status"] == "completed"
    assert record["output"]["x"] == 1
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert "Workflow Completed" in kinds
    assert ignored == {"ignored": "no such execution"}
