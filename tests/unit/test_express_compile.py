"""Express workflows compiled: which fit, and the reporting state machine around the workflow."""

from __future__ import annotations

import json

import pytest

from baton.compiler import express
from baton.compiler.checks import structural_problems
from baton.definition.exceptions import DefinitionError
from baton_service.catalog import resume_points_in
from tests.conftest import compiled, make_registry

QUICK = make_registry("a", "b", "c", a={"timeout": "5s"}, b={"timeout": "5s"}, c={"timeout": "5s"})


def definition(**extra):
    return {
        "id": "quick",
        "name": "Quick",
        "type": "express",
        "agents": ["a", "b"],
        "config": {"maxRetries": 2},
        **extra,
    }


def test_the_workflow_runs_inside_a_parallel_whose_catch_reports_every_end():
    asl = compiled(definition(), QUICK).asl
    states = asl["States"]
    assert asl["StartAt"] == "Run" and asl["TimeoutSeconds"] == 300
    assert list(states) == ["Run", "Report success", "Report failure", "Failed"]
    run = states["Run"]
    # its start is announced by the lifecycle that starts it: no state reports it
    assert "'status': 'RUNNING'" not in json.dumps(asl)
    assert [c["ErrorEquals"] for c in run["Catch"]] == [
        ["States.DataLimitExceeded"],  # which States.ALL may not match (the documentation)
        ["States.ALL"],
    ]
    assert {c["Next"] for c in run["Catch"]} == {"Report failure"}
    assert run["Next"] == "Report success" and states["Report failure"]["Next"] == "Failed"
    assert states["Failed"]["Error"] == "{% $states.input.Error %}"  # ends as the workflow did
    body = run["Branches"][0]
    assert body["StartAt"] == "Start" and {"a", "b", "Resume router"} <= set(body["States"])
    # the agents know they run in an Express run (they check for a stop, record failures)
    assert "'express': true" in body["States"]["Start"]["Assign"]["ctx"]
    # and the stop they raise is never retried
    not_retried = body["States"]["a"]["Retry"][2]
    assert not_retried["ErrorEquals"][-1] == "ExecutionStoppedError"
    assert not_retried["MaxAttempts"] == 0
    for name in ("Report success", "Report failure"):
        task = states[name]
        assert task["Arguments"]["FunctionName"] == express.EVENTS_FUNCTION_PLACEHOLDER
        # the Task outlasts the events function, which never runs longer than its timeout
        assert task["TimeoutSeconds"] == express.REPORT_TIMEOUT_SECONDS
    payload = states["Report failure"]["Arguments"]["Payload"]
    assert "'status': 'FAILED'" in payload and "'error': $states.input.Error" in payload
    assert structural_problems(asl) == []


def test_resume_points_are_read_inside_the_run():
    workflow = compiled(definition(), QUICK)
    deployed = json.loads(workflow.to_json())
    assert resume_points_in(deployed) == {"": "a", "a": "b", "b": "Completed"}


def test_standard_stays_the_default_and_keeps_its_shape():
    asl = compiled({**definition(), "type": "standard"}, QUICK).asl
    assert asl["StartAt"] == "Start" and "Run" not in asl["States"]
    assert "'express'" not in asl["States"]["Start"]["Assign"]["ctx"]


def test_a_worst_case_over_five_minutes_is_refused_with_its_figures():
    slow = make_registry("a", "b", a={"timeout": "60s"}, b={"timeout": "5s"})
    with pytest.raises(DefinitionError) as refused:
        compiled(definition(), slow)
    (problem,) = refused.value.problems
    # a: 3 attempts x (60 s + 15 s margin) + backoffs 2 s + 4 s; b: 3 x 20 s + 6 s
    assert problem.path == "type"
    assert "worst case is 297s" in problem.message
    assert f"at most {express.WORKFLOW_SECONDS}s fits" in problem.message
    # the workflow's timeout does not help: an Express run is not ended by it
    with pytest.raises(DefinitionError):
        compiled(definition(config={"maxRetries": 2, "timeout": "1m"}), slow)
    assert compiled(definition(config={"maxRetries": 0}), slow).workflow.type == "express"


def test_an_auto_recovery_backoff_counts_inside_the_run():
    """A recovered run waits its backoff in its Recovery backoff state: part of its 5 minutes."""
    # a and b: 5 s timeouts and 15 s margins, one attempt each: 40 s, and a 215 s backoff
    config = {"maxRetries": 0, "autoRecovery": True, "backoff": {"interval": "215s"}}
    assert 40 + 215 > express.WORKFLOW_SECONDS >= 40 + 10
    with pytest.raises(DefinitionError) as refused:
        compiled(definition(config=config), QUICK)
    assert "after up to 215s of auto-recovery backoff" in refused.value.problems[0].message
    assert compiled(definition(config={**config, "autoRecovery": False}), QUICK)
    assert compiled(definition(config={**config, "backoff": {"interval": "10s"}}), QUICK)


def test_a_distributed_fan_out_is_standard_only():
    fan_out = {"a": {"items": "list", "maxConcurrency": 50, "maxItems": 3}}
    with pytest.raises(DefinitionError) as refused:
        compiled(definition(forEach=fan_out, config={"maxRetries": 0}), QUICK)
    assert any("Distributed Map" in p.message for p in refused.value.problems)
    inline = {"a": {"items": "list", "maxConcurrency": 5, "maxItems": 3}}
    assert compiled(definition(forEach=inline, config={"maxRetries": 0}), QUICK)


def test_the_reports_leave_the_workflow_its_share_of_five_minutes():
    assert express.REPORTS_SECONDS == 2 * 25 + 1  # the end's two attempts and the wait between
    assert express.WORKFLOW_SECONDS == 300 - express.REPORTS_SECONDS
