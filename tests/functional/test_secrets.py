"""Secrets by reference: resolved inside the agent, never in data, history or records."""

from __future__ import annotations

import json

from baton_agent import AgentResult, agent
from tests.conftest import compiled, make_registry

CANARY = "canary-Zq8#p4ss"
REGISTRY = make_registry("a", "b")
WORKFLOW = {
    "id": "sec",
    "name": "Sec",
    "agents": ["a", "b"],
    "initialData": {"passwordSecret": "app/pw"},
}


@agent
def uses_secret(data, context):
    password = context.secret(data["passwordSecret"])
    return AgentResult(data={"signedIn": len(password) > 8})


@agent
def leaks_secret(data, context):
    return AgentResult(data={"oops": "pw=" + context.secret(data["passwordSecret"])})


@agent
def passthrough(data, context):
    return AgentResult(data={"b": True})


def history_text(runtime, record) -> str:
    return json.dumps(runtime.history(record.current_run), default=str)


def test_agent_resolves_a_secret_that_never_reaches_the_execution(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": uses_secret, "b": passthrough})
    runtime.put_secrets({"app/pw": CANARY})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "completed"
    assert record.output["signedIn"] is True
    assert CANARY not in history_text(runtime, record)
    assert CANARY not in json.dumps(record.to_json())


def test_a_missing_secret_is_an_input_error_and_not_retried(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": uses_secret, "b": passthrough})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "failed"
    assert record.error.error_type == "AgentInputError"
    assert record.error.message.startswith("SecretNotFoundError: secret 'app/pw' cannot be read")
    assert record.error.retry_count == 0
    assert record.waits == []


def test_an_agent_returning_a_secret_is_refused(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": leaks_secret, "b": passthrough})
    runtime.put_secrets({"app/pw": CANARY})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "failed"
    assert (
        record.error.message
        == "SecretLeakError: agent a returned a secret value in its data; refused"
    )
    assert record.error.retry_count == 0
    assert CANARY not in history_text(runtime, record)
    assert CANARY not in json.dumps(record.to_json())
