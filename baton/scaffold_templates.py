"""The files `baton new` writes (str.format templates: `{{` and `}}` are literal braces)."""

REGISTRY_HEADER = """\
# This project's agents. `extends: baton` adds them to the agents Baton ships; each handler is
# `module.function`, imported from functions/ as Lambda imports it from its package root.
extends: baton
agents:
"""

REGISTRY_ENTRY = """
  - id: {id}
    name: {name}
    requiredAccuracy: 90
    handler: {handler}
    description: {description}
    timeout: 30s
"""

AGENT_HANDLER = '''\
"""Agent {name}: counts the words of the workflow's `text`.

Replace the body with your agent's work. The runtime (`@agent`) gives it the workflow data and
a context (the attempt, the tenant, `config` from the registry entry, `secret()`, `keep()`),
records its handoff, applies the result cache and the accuracy gate. See docs/agent-sdk.md.
"""

from __future__ import annotations

from typing import Any

from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    text = data.get("text")
    if not isinstance(text, str):
        # bad input: another attempt cannot fix it, so it is never retried
        raise AgentInputError("the workflow data lacks `text` (a string)")
    words = text.split()
    # what later steps read: merged into the workflow data as {key}
    return AgentResult(data={{"{key}": {{"words": len(words)}}}}, accuracy=100)
'''

AGENT_TEST = '''\
"""Unit tests of agent {name}: no AWS and no moto (the agent_kit fixture, baton_agent.testing)."""

import pytest

from baton.testing import registered_agent
from baton_agent import AgentInputError


def test_{module}_counts_the_words(agent_kit):
    spec, handler = registered_agent("{name}")
    call = agent_kit.call_registered(spec, handler, {{"text": "one two three"}})
    assert call.data == {{"{key}": {{"words": 3}}}}
    assert call.accuracy == 100


def test_{module}_needs_text_and_is_never_retried_without_it(agent_kit):
    spec, handler = registered_agent("{name}")
    with pytest.raises(AgentInputError, match="lacks `text`"):
        agent_kit.call_registered(spec, handler, {{}})
'''

WORKFLOW = """\
# Run it offline: baton run statemachines/{id}.yaml  (see docs/first-agent.md)
id: {id}
name: {title}
agents: [{agents}]
initialData:
  text: Baton runs this workflow offline, then on AWS Step Functions.
config:
  timeout: 5m
  maxRetries: 2
  backoff: {{interval: 1s, rate: 2}}
metadata:
  description: Scaffolded by baton new workflow {id}.
"""

WORKFLOW_TEST = '''\
"""The {name} workflow, run whole offline (the run_workflow fixture: moto, agents in-process)."""


def test_{module}_completes(run_workflow):
    record = run_workflow("statemachines/{name}.yaml")
    assert record.status == "completed", record.error
    assert [handoff.agent for handoff in record.handoffs] == {agents!r}
'''
