"""The deployment manifest: names, timeouts, concurrency, substitutions and grants, from the
registry and the workflow files, as the stack and the offline runtime read them."""

from __future__ import annotations

import json
import re

import pytest

from baton.compiler.asl import compile_workflow
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import load_workflow, workflow_files
from baton.deploy.manifest import (
    CATALOG_FILE,
    WARM_ALIAS,
    Ref,
    build_manifest,
    environment_text,
    recovery_delays,
    resolve_value,
)
from baton_service.events import SETTLING_SECONDS
from tests.asl_walk import invocations
from tests.conftest import compiled, make_registry


@pytest.fixture(scope="module")
def shipped(shipped_registry):
    workflows = [compile_workflow(load_workflow(p, shipped_registry)) for p in workflow_files()]
    return build_manifest(shipped_registry, workflows)


def fake_resolve(ref: Ref) -> str:
    return f"<{ref.kind}:{ref.key}:{ref.attribute}>"


def test_one_function_per_agent_with_the_registry_settings(shipped, shipped_registry):
    assert set(shipped.agents) == {a.name for a in shipped_registry}
    for spec in shipped_registry:
        function = shipped.agents[spec.name]
        assert function.function_name == f"baton-agent-{spec.name}"
        assert len(function.function_name) <= 64
        assert function.handler == spec.handler
        assert function.memory == spec.memory
        assert function.timeout_seconds == spec.timeout_seconds
        assert function.reserved_concurrency == spec.pool.max
        assert function.provisioned_concurrency == spec.pool.warm
        assert function.alias == (WARM_ALIAS if spec.pool.warm else None)
        assert function.environment["POWERTOOLS_SERVICE_NAME"] == function.function_name


def test_every_task_outlasts_the_function_it_invokes(shipped):
    for workflow in shipped.workflows.values():
        asl = json.loads(workflow.definition)
        found = list(invocations(asl))
        assert found
        for function, timeout in found:
            ref = workflow.substitutions[function[2:-1]]
            if ref.kind == "function_named":  # an Express run's report
                assert timeout > shipped.events_function.timeout_seconds
                continue
            assert timeout > shipped.agents[ref.key].timeout_seconds


def test_substitutions_fill_every_placeholder_and_warm_agents_go_through_their_alias(shipped):
    for workflow in shipped.workflows.values():
        placeholders = set(re.findall(r"\$\{([^}]+)\}", workflow.definition))
        assert placeholders == set(workflow.substitutions)
        assert "${" not in workflow.substituted(fake_resolve)
        for key, ref in workflow.substitutions.items():
            if key.startswith("AgentFn_"):
                warm = shipped.agents[ref.key].provisioned_concurrency > 0
                assert ref.kind == ("alias" if warm else "function")
    scrapers = shipped.workflows["competitor-monitoring"].substitutions
    assert scrapers["AgentFn_scraper_1"] == Ref("alias", "scraper-1")
    assert scrapers["AgentFn_aggregator"] == Ref("function", "aggregator")


def test_a_state_machine_may_invoke_exactly_its_agents(shipped):
    workflow = shipped.workflows["workflow_sequential_001"]
    invoked = {g.resource.key for g in workflow.grants if "lambda:InvokeFunction" in g.actions}
    assert invoked == {"login", "navigate", "extract", "webhook"}
    assert all("*" not in action for g in workflow.grants for action in g.actions)
    # a skip fallback writes its handoff itself: PutItem on the executions table, nothing else
    competitor = shipped.workflows["competitor-monitoring"]
    writes = [g for g in competitor.grants if g.resource.kind == "table"]
    assert [(g.resource.key, g.actions) for g in writes] == [("executions", ("dynamodb:PutItem",))]


def test_agents_read_only_the_secrets_they_declare(shipped):
    secrets = {
        name: [g.resource.key for g in f.grants if g.resource.kind == "secret"]
        for name, f in shipped.agents.items()
    }
    assert secrets["login"] == ["portal-password"]
    assert secrets["webhook"] == ["webhook-signing-key"]
    assert all(not keys for name, keys in secrets.items() if name not in ("login", "webhook"))


def test_names_and_environment_are_written_once(shipped):
    assert {t.name for t in shipped.tables.values()} == {
        "baton-executions",
        "baton-cache",
        "baton-agent-stats",
    }
    environment = environment_text(shipped.agents["login"].environment, fake_resolve)
    assert environment["BATON_EXECUTIONS_TABLE"] == "<table:executions:name>"
    assert environment["BATON_CACHE_TABLE"] == "<table:cache:name>"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Baton"
    events = environment_text(shipped.events_function.environment, fake_resolve)
    assert events["BATON_WORKFLOWS_FILE"] == CATALOG_FILE
    assert events["BATON_TOPIC_ARN"] == "<topic:notifications:arn>"
    assert events["BATON_ARCHIVE_BUCKET"] == "<bucket:archive:name>"


def test_the_catalog_lists_every_workflow_with_its_state_machine_and_options(shipped):
    catalog = resolve_value(shipped.catalog(), fake_resolve)
    entries = {e["workflowId"]: e for e in catalog["workflows"]}
    assert set(entries) == set(shipped.workflows)
    entry = entries["competitor-monitoring"]
    assert entry["stateMachineName"] == "baton-competitor-monitoring"
    assert entry["autoRecovery"] is True and entry["maxRecoveries"] == 1
    assert entry["retentionSeconds"] == 90 * 86_400
    assert entry["definition"]["config"]["parallelGroups"] == [
        ["scraper-1", "scraper-2", "scraper-3"]
    ]
    assert entry["graph"].startswith("flowchart")
    assert json.loads(json.dumps(catalog)) == catalog  # the file is plain JSON
    agents = {a["name"]: a for a in catalog["agents"]}
    assert agents["login"] == {
        "id": 1,
        "name": "login",
        "tier": "browser",
        "capabilities": ["authentication", "session"],
        "requiredAccuracy": 95.0,
        "description": agents["login"]["description"],
        "version": "1",
    }


def test_the_events_function_reaches_every_state_machine_and_its_executions(shipped):
    grants = shipped.events_function.grants
    machines = {g.resource.key for g in grants if g.resource.kind == "state_machine"}
    runs = {g.resource.key for g in grants if g.resource.kind == "executions_of"}
    assert machines == runs == set(shipped.workflows)


def test_the_api_may_stop_runs_and_read_their_history_but_not_describe_them(shipped):
    """Cancel and pause stop a run; a resume reads the stopped run's history (may its agent
    still be running a step?), as a second cancel does (did the first one's stop fail?).
    Nothing else on runs."""
    on_runs = {
        g.resource.key: set(g.actions)
        for g in shipped.api_function.grants
        if g.resource.kind == "executions_of"
    }
    assert set(on_runs) == set(shipped.workflows)
    assert all(
        actions == {"states:StopExecution", "states:GetExecutionHistory"}
        for actions in on_runs.values()
    )


def test_a_settlement_lease_outlasts_the_events_function_and_not_lambdas_retry(shipped):
    """A delivery holds the settlement of the outcome it applied for SETTLING_SECONDS: past
    them, Lambda has surely ended the function (its timeout), and its first retry of a failed
    invocation (about a minute later) finds the lease passed."""
    assert shipped.events_function.timeout_seconds < SETTLING_SECONDS < 60


def test_the_definition_size_is_checked_with_real_arns():
    # just under 1 MB with placeholders, over it once each becomes a full alias ARN
    names = [f"a{i}" for i in range(1, 1001)]
    registry = make_registry(*names, **{n: {"pool": {"warm": 1}} for n in names})
    workflow = compiled({"id": "wide", "name": "Wide", "agents": names}, registry)
    unsubstituted = len(workflow.to_json(indent=None).encode())
    assert unsubstituted < 1_048_576
    with pytest.raises(DefinitionError) as caught:
        build_manifest(registry, [workflow])
    [problem] = caught.value.problems
    assert "with real ARNs in place of its placeholders the state machine is" in problem.message
    assert "accepts at most 1 MB" in problem.message


@pytest.mark.parametrize("prefix", ["", "Baton", "1baton", "a-very-long-prefix", "ba_ton"])
def test_a_bad_prefix_is_refused(shipped_registry, prefix):
    with pytest.raises(ValueError, match="1 to 15 lowercase letters"):
        build_manifest(shipped_registry, prefix=prefix)


def test_a_deployment_with_a_cycle_of_triggers_is_refused():
    registry = make_registry("a")
    ping = compiled(
        {
            "id": "ping",
            "name": "Ping",
            "agents": ["a"],
            "triggers": [{"on": "completed", "workflow": "pong"}],
        },
        registry,
    )
    pong = compiled(
        {
            "id": "pong",
            "name": "Pong",
            "agents": ["a"],
            "triggers": [{"on": "failed", "workflow": "ping"}],
        },
        registry,
    )
    with pytest.raises(DefinitionError) as caught:
        build_manifest(registry, [ping, pong])
    assert [p.path for p in caught.value.problems] == ["triggers", "triggers"]
    assert "ping triggers itself (ping → pong → ping)" in caught.value.problems[0].message
    assert build_manifest(registry, [ping]).workflows["ping"].triggers[0].workflow == "pong"


def test_recovery_delays_follow_the_workflow_backoff_in_whole_seconds():
    from baton.definition.workflow import WorkflowConfig

    config = WorkflowConfig.model_validate(
        {"maxRecoveries": 4, "backoff": {"interval": "1.5s", "rate": 2, "maxDelay": "5s"}}
    )
    assert recovery_delays(config) == (2, 3, 5, 5)
    assert recovery_delays(WorkflowConfig.model_validate({"maxRecoveries": 0})) == ()
    huge = WorkflowConfig.model_validate(
        {"maxRecoveries": 5, "backoff": {"interval": "1d", "rate": 1000}}
    )
    assert max(recovery_delays(huge)) == 99_999_999  # a Wait state's longest
