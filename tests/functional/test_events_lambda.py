"""The events Lambda handler, configured from its environment as the stack will configure it."""

from __future__ import annotations

import json

from baton.local.fake_lambda import FakeLambdaContext
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
        unknown_start = {**unknown, "detail": {**unknown["detail"], "status": "RUNNING"}}
        ignored_start = events_lambda.handler(unknown_start, FakeLambdaContext("baton-events"))
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
    assert ignored_start == {
        "ignored": "a run's start is announced by the lifecycle that starts it"
    }


def test_baton_repair_delivers_a_lost_status_change_again(runtime_factory, monkeypatch, tmp_path):
    """The run ended but its status change never reached the events function (lost, or kept
    in the DLQ after every retry): the record still says running. `baton repair` invokes the
    events function with a repair request; it describes the current run and applies it, once."""
    import io
    import zipfile

    from typer.testing import CliRunner

    from baton.cli import app
    from baton_agent.settings import get_settings
    from events import handler as events_lambda

    runtime = runtime_factory(REGISTRY, {"a": echo(Calls(), "a"), "b": echo(Calls(), "b")})
    workflow = compiled({"id": "lost", "name": "Lost", "agents": ["a", "b"]}, REGISTRY)
    runtime.deploy(workflow)
    function = runtime.manifest.events_function
    configure_like_the_stack(runtime, function, monkeypatch, tmp_path)
    events_lambda.status_change_handler.cache_clear()
    runtime.dispatcher.register(function.function_name, events_lambda.handler)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "# runs in-process offline\n")
    runtime.lambda_.create_function(
        FunctionName=function.function_name,
        Runtime="python3.12",
        Role=runtime.role_arn,
        Handler=function.handler,
        Code={"ZipFile": code.getvalue()},
    )
    try:
        started = runtime.execute(workflow, {"x": 1}, settle=False)
        runtime.wait(started["currentRun"])  # ended; its event is never delivered
        lost = runtime.services.lifecycle.get("default", started["executionId"])
        assert lost["status"] == "running"

        cli = CliRunner()
        repaired = cli.invoke(app, ["repair", started["executionId"]])
        assert repaired.exit_code == 0, repaired.output
        assert json.loads(repaired.stdout) == {"status": "completed", "triggered": []}
        again = cli.invoke(app, ["repair", started["executionId"]])
        assert json.loads(again.stdout) == {"ignored": "this run's outcome was applied already"}
        hostile = cli.invoke(app, ["repair", "../x", "--tenant", "acme"])
        assert hostile.exit_code == 2
        assert "executionId: '../x' is not an execution id" in hostile.stderr
    finally:
        get_settings.cache_clear()
        events_lambda.status_change_handler.cache_clear()

    record = runtime.services.lifecycle.get("default", started["executionId"])
    assert record["status"] == "completed" and record["output"]["x"] == 1
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert kinds.count("Workflow Completed") == 1


def test_an_express_run_reports_to_the_events_lambda_itself(runtime_factory, monkeypatch, tmp_path):
    """The Lambda handler, not only the service behind it, takes an Express run's reports."""
    from baton_agent.settings import get_settings
    from events import handler as events_lambda

    quick = make_registry("a", "b", a={"timeout": "5s"}, b={"timeout": "5s"})
    runtime = runtime_factory(quick, {"a": echo(Calls(), "a"), "b": echo(Calls(), "b")})
    definition = {"id": "fast", "name": "Fast", "type": "express", "agents": ["a", "b"]}
    workflow = compiled({**definition, "config": {"maxRetries": 1}}, quick)
    runtime.deploy(workflow)
    configure_like_the_stack(runtime, runtime.manifest.events_function, monkeypatch, tmp_path)
    events_lambda.status_change_handler.cache_clear()
    function = runtime.manifest.events_function.function_name
    runtime.dispatcher.handlers[function] = events_lambda.handler  # as the stack deploys it
    try:
        done = runtime.execute(workflow, {"x": 1})
    finally:
        get_settings.cache_clear()
        events_lambda.status_change_handler.cache_clear()
    assert done["status"] == "completed"
    assert done["output"]["x"] == 1 and done["metrics"]["successfulHandoffs"] == 2
    kinds = [e["detail-type"] for e in runtime.services.events()]
    assert kinds[0] == "Workflow Started" and kinds[-1] == "Workflow Completed"
