"""The reference document's JSON shape is accepted as written there, and means the same as YAML."""

from __future__ import annotations

import json

from baton.compiler.asl import compile_workflow
from tests.conftest import compiled, resolve

REFERENCE_SEQUENTIAL = {
    "id": "workflow_sequential_001",
    "name": "Sequential Data Extraction",
    "agents": [1, 2, 3, 4],
    "initialData": {
        "loginUrl": "https://example.com/login",
        "username": "user@example.com",
        "password": "encrypted_password",
        "targetUrl": "https://example.com/data",
        "webhookUrl": "https://your-api.com/webhook",
    },
}

REFERENCE_PARALLEL = {
    "id": "workflow_parallel_001",
    "name": "Parallel Multi-Site Scraping",
    "agents": [5, 6, 7, 8],
    "initialData": {
        "sites": ["https://competitor1.com", "https://competitor2.com", "https://competitor3.com"]
    },
    "config": {"parallelGroups": [[5, 6, 7], [8]]},
}

REFERENCE_CONDITIONAL = {
    "id": "workflow_conditional_001",
    "name": "Price Change Alert",
    "agents": [10, 11, 12],
    "initialData": {"targetUrl": "https://competitor.com/product", "lastKnownPrice": 99.99},
    "conditions": [
        {
            "agentId": 10,
            "when": "currentPrice != lastKnownPrice",
            "thenAgents": [11],
            "elseAgents": [12],
        }
    ],
}


def test_reference_workflows_validate_as_written(shipped_registry):
    for definition in (REFERENCE_SEQUENTIAL, REFERENCE_PARALLEL, REFERENCE_CONDITIONAL):
        workflow = resolve(definition, shipped_registry)
        assert workflow.id == definition["id"]


def test_reference_config_in_milliseconds(shipped_registry):
    definition = {
        **REFERENCE_SEQUENTIAL,
        "config": {"timeout": 300000, "maxRetries": 3, "autoRecovery": True},
    }
    assert resolve(definition, shipped_registry).timeout_seconds == 300
    assert (
        resolve({**definition, "config": {"timeout": 1500}}, shipped_registry).timeout_seconds == 2
    )


def test_reference_fallback_shape(shipped_registry):
    definition = {
        **REFERENCE_PARALLEL,
        "fallbacks": [
            {"agentId": 6, "strategy": "alternative", "alternativeAgentId": 9, "maxRetries": 1}
        ],
    }
    workflow = resolve(definition, shipped_registry)
    policy = workflow.policy("scraper-2")
    assert (policy.strategy, policy.alternative, policy.retry.max_attempts) == (
        "alternative",
        "scraper-backup",
        1,
    )


def test_yaml_names_and_reference_ids_compile_to_the_same_asl(shipped_registry):
    yaml_text = """
id: workflow_conditional_001
name: Price Change Alert
agents: [check-price, slack-notify, log]
initialData: {targetUrl: "https://competitor.com/product", lastKnownPrice: 99.99}
config: {timeout: 5m}
conditions:
  - after: check-price
    when: currentPrice != lastKnownPrice
    then: [slack-notify]
    else: [log]
"""
    from_json = compiled(REFERENCE_CONDITIONAL, shipped_registry).asl
    from_yaml = compile_workflow(resolve(yaml_text, shipped_registry)).asl
    assert json.dumps(from_json, sort_keys=True) == json.dumps(from_yaml, sort_keys=True)


def test_branch_agents_run_only_on_their_branch(shipped_registry):
    """The reference code would run 11 and 12 again in the main sequence; Baton does not."""
    asl = compiled(REFERENCE_CONDITIONAL, shipped_registry).asl
    tasks = [name for name, state in asl["States"].items() if state["Type"] == "Task"]
    assert sorted(tasks) == ["check-price", "log", "slack-notify"]
    assert asl["States"]["slack-notify"]["End"] is True  # each branch ends the run
    assert asl["States"]["log"]["End"] is True
