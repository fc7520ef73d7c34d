"""The agent authors' test kit: an agent called as Step Functions calls it, with in-memory
backends, and the runtime's rules (cache, secrets, stash, accuracy, deadlines) all applying."""

from __future__ import annotations

import pytest

from baton.testing import registered_agent
from baton_agent import AccuracyBelowThreshold, AgentInputError, AgentResult, agent
from baton_agent.errors import (
    AttemptAbandonedError,
    ExecutionStoppedError,
    SecretDestinationError,
    SecretNotDeclaredError,
)
from baton_agent.secrets import SecretNotFoundError
from baton_agent.testing import AgentTestKit

RUNS: list[str] = []


@agent
def login(data, context):
    password = context.secret("portal-password", to=data["url"])
    RUNS.append(data["user"])
    ref = context.keep(f"session-for-{data['user']}-{len(password)}", secret=True)
    return AgentResult(data={"session": ref}, accuracy=float(data.get("accuracy", 99)))


@agent
def reader(data, context):
    return AgentResult(data={"cookie": len(context.take(data["session"]))})


def call_login(kit, **overrides):
    options = {
        "agent": "login",
        "secrets": ["portal-password"],
        "allowed_hosts": ["portal.example.com"],
        "required_accuracy": 90,
    }
    data = {"user": "ada", "url": "https://portal.example.com/login"}
    return kit.call(login, {**data, **overrides.pop("data", {})}, **{**options, **overrides})


def test_a_call_reads_the_tenants_secret_and_keeps_the_session_by_reference():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    call = call_login(kit)
    assert call.accuracy == 99 and call.data["session"].startswith("stash:")
    assert kit.secrets.reads == [("test", "portal-password")]
    taken = kit.call(reader, {"session": call.data["session"]})
    assert taken.data == {"cookie": len("session-for-ada-7")}
    assert [step.handoff["agent"] for step in kit.log.steps] == ["login", "reader"]


def test_another_tenants_secret_is_not_found_and_undeclared_or_far_secrets_are_refused():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    with pytest.raises(AgentInputError, match=r"SecretNotFoundError: .*baton/other/portal-pass"):
        call_login(kit, tenant="other")
    with pytest.raises(AgentInputError, match=r"SecretNotDeclaredError: .*may read only"):
        call_login(kit, secrets=[])
    with pytest.raises(AgentInputError, match=r"SecretDestinationError: .*may not send"):
        call_login(kit, data={"url": "https://evil.example.net/"})
    assert issubclass(SecretNotFoundError, AgentInputError)
    assert issubclass(SecretNotDeclaredError, AgentInputError)
    assert issubclass(SecretDestinationError, AgentInputError)


def test_a_stashed_value_belongs_to_its_execution():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    ref = call_login(kit).data["session"]
    with pytest.raises(AgentInputError, match="nothing is stashed"):
        kit.call(reader, {"session": ref}, execution_id="another-execution")


def test_the_result_cache_hits_for_the_same_input_until_its_ttl():
    clock = [1_000.0]
    kit = AgentTestKit(secrets={"portal-password": "hunter2"}, clock=lambda: clock[0])
    RUNS.clear()
    first = call_login(kit, cache_ttl="15m", cache_key=["user"])
    second = call_login(kit, cache_ttl="15m", cache_key=["user"])
    assert (first.cached, second.cached, RUNS) == (False, True, ["ada"])
    assert second.meta["validatedBy"] == ["cache"]
    clock[0] += 15 * 60
    assert not call_login(kit, cache_ttl="15m", cache_key=["user"]).cached
    assert not call_login(kit, cache_ttl="15m", data={"user": "bob"}).cached


def test_the_accuracy_gate_raises_and_records_the_refused_accuracy():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    with pytest.raises(AccuracyBelowThreshold, match=r"\(42%\) below threshold \(90%\)"):
        call_login(kit, data={"accuracy": 42})
    assert kit.stats.recorded == [("login", 42.0)]
    assert kit.log.steps == []


def test_an_attempt_past_its_timeout_records_nothing():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    with pytest.raises(AttemptAbandonedError):
        call_login(kit, timeout_seconds=0)
    assert kit.log.steps == []


def test_an_express_run_stops_cooperatively_and_records_its_failed_attempts():
    kit = AgentTestKit(secrets={"portal-password": "hunter2"})
    with pytest.raises(AccuracyBelowThreshold):
        call_login(kit, express=True, data={"accuracy": 1})
    assert [(f["agent"], f["error"]) for f in kit.log.failures] == [
        ("login", "AccuracyBelowThreshold")
    ]
    kit.log.stopped_reason = "the execution was cancelled"
    with pytest.raises(ExecutionStoppedError, match="was cancelled"):
        call_login(kit, express=True)


def test_a_large_result_travels_by_reference_to_the_payload_store():
    @agent
    def big(data, context):
        return AgentResult(data={"page": "x" * 300_000})

    kit = AgentTestKit()
    call = kit.call(big, {})
    assert call.data["page"]["bytes"] > 300_000 and "$batonRef" in call.data["page"]
    assert len(kit.payloads.objects) == 1


def test_a_registered_agent_is_called_as_its_registry_entry_configures_it(agent_kit, demo_site):
    spec, handler = registered_agent("check-price")
    page = f"{demo_site.base_url}/products/espresso"
    call = agent_kit.call_registered(spec, handler, {"targetUrl": page, "lastKnownPrice": 100})
    assert call.meta["agent"] == "check-price" and call.data["currentPrice"] == 84.99
    assert agent_kit.log.steps[0].handoff["accuracy"] >= spec.required_accuracy
