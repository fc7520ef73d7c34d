"""Secrets belong to tenants: resolved inside the agent from the run's tenant space, only the
names the registry declares, sent only to allowed hosts, and never in any output."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote_plus

import pytest

from baton_agent import AgentError, AgentResult, agent
from tests.conftest import compiled, make_registry

CANARY = 'canary-Zq8#p4ss "quoted" back\\slash wörd'
"""A value whose JSON, URL and non-ASCII spellings all differ from the raw text."""
REGISTRY = make_registry("a", "b", a={"secrets": ["app-pw"]})
WORKFLOW = {
    "id": "sec",
    "name": "Sec",
    "agents": ["a", "b"],
    "initialData": {"passwordSecret": "app-pw"},
}


@agent
def uses_secret(data, context):
    password = context.secret(data["passwordSecret"])
    return AgentResult(data={"signedIn": len(password) > 8})


@agent
def leaks_secret(data, context):
    return AgentResult(data={"oops": "pw=" + json.dumps(context.secret(data["passwordSecret"]))})


@agent
def fails_with_the_secret_in_its_message(data, context):
    value = context.secret(data["passwordSecret"])
    raise AgentError(
        f"portal said: bad password {value} (form: password={quote_plus(value)}, "
        f"json: {json.dumps({'password': value})})"
    )


@agent
def passthrough(data, context):
    return AgentResult(data={"b": True})


@agent
def reads_an_undeclared_secret(data, context):
    return AgentResult(data={"got": bool(context.secret("app-pw"))})


def spellings(value: str) -> list[str]:
    return [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote_plus(value),
    ]


def everything_said(runtime, record: dict) -> str:
    """All that left the agents for this execution: history, record, archive, events, SNS."""
    archive = runtime.services.s3.get_object(
        Bucket=runtime.manifest.archive_bucket,
        Key=f"{record['tenant']}/{record['workflowId']}/{record['executionId']}.json",
    )["Body"].read()
    parts = [
        json.dumps([runtime.history(run) for run in record["runs"]], default=str),
        json.dumps(runtime.services.lifecycle.get(record["tenant"], record["executionId"])),
        archive.decode(),
        json.dumps(runtime.services.events()),
        json.dumps(runtime.services.notifications()),
    ]
    return "\n".join(parts)


def test_agent_resolves_a_secret_that_never_reaches_the_execution(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": uses_secret, "b": passthrough})
    runtime.put_secrets({"app-pw": CANARY})
    record = runtime.execute(compiled(WORKFLOW, REGISTRY))
    assert record["status"] == "completed"
    assert record["output"]["signedIn"] is True
    said = everything_said(runtime, record)
    assert not [s for s in spellings(CANARY) if s in said]


def test_a_missing_secret_is_an_input_error_and_not_retried(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": uses_secret, "b": passthrough})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "failed"
    assert record.error.error_type == "AgentInputError"
    assert record.error.message.startswith(
        "SecretNotFoundError: secret 'baton/default/app-pw' cannot be read"
    )
    assert record.error.retry_count == 0
    assert record.waits == []


def test_an_agent_returning_a_secret_in_any_spelling_is_refused(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": leaks_secret, "b": passthrough})
    runtime.put_secrets({"app-pw": CANARY})
    record = runtime.execute(compiled(WORKFLOW, REGISTRY))
    assert record["status"] == "failed"
    assert record["error"]["message"] == (
        "SecretLeakError: agent a returned a secret value in its data; refused"
    )
    assert record["error"]["retryCount"] == 0
    said = everything_said(runtime, record)
    assert not [s for s in spellings(CANARY) if s in said]


def test_a_secret_in_an_error_message_is_redacted_everywhere(runtime_factory, capfd, caplog):
    runtime = runtime_factory(
        REGISTRY, {"a": fails_with_the_secret_in_its_message, "b": passthrough}
    )
    runtime.put_secrets({"app-pw": CANARY})
    workflow = {**WORKFLOW, "config": {"maxRetries": 0, "autoRecovery": False}}
    record = runtime.execute(compiled(workflow, REGISTRY))
    assert record["status"] == "failed"
    message = record["error"]["message"]
    assert message == (
        'portal said: bad password *** (form: password=***, json: {"password": "***"})'
    )
    out, err = capfd.readouterr()
    said = everything_said(runtime, record) + out + err + caplog.text  # logs too
    assert "portal said: bad password ***" in said
    assert not [s for s in spellings(CANARY) if s in said]


def test_an_agent_may_read_only_the_secrets_its_registry_entry_declares(runtime_factory):
    runtime = runtime_factory(REGISTRY, {"a": passthrough, "b": reads_an_undeclared_secret})
    runtime.put_secrets({"app-pw": CANARY})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "failed" and record.error.agent_name == "b"
    assert record.error.message == (
        "SecretNotDeclaredError: agent b may read only the secrets its registry entry declares "
        "(none); 'app-pw' is not one"
    )


class Collector:
    """An attacker's server on 127.0.0.1: records every request body it receives."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                collector.bodies.append(self.rfile.read(length).decode(errors="replace"))
                self.send_response(200)
                self.send_header("Set-Cookie", "stolen=1")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/collect"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    server = Collector()
    yield server
    server.close()


@pytest.fixture
def portal(runtime_factory, shipped_registry):
    """The shipped login agent, with acme's and mallory's portal passwords stored."""
    runtime = runtime_factory(shipped_registry)
    runtime.put_secrets({"portal-password": "acme-secret-pw-1"}, tenant="acme")
    runtime.put_secrets({"portal-password": "mallory-own-pw"}, tenant="mallory")
    return runtime


def login_workflow(shipped_registry, allowed: list[str]):
    definition = {
        "id": "login-only",
        "name": "Login only",
        "agents": ["login"],
        "initialData": {"username": "u@example.com", "passwordSecret": "portal-password"},
        "config": {"allowedHosts": allowed, "maxRetries": 0, "autoRecovery": False},
    }
    return compiled(definition, shipped_registry)


@pytest.mark.parametrize(
    ("reference", "error"),
    [
        ("baton/acme/portal-password", "SecretNotDeclaredError"),
        ("../acme/portal-password", "SecretNotDeclaredError"),
        ("portal-password", "SecretDestinationError"),
    ],
)
def test_another_tenant_cannot_make_login_send_acmes_password_anywhere(
    portal, shipped_registry, collector, reference, error
):
    """The attack from the review: mallory names acme's secret and an attacker's login URL."""
    workflow = login_workflow(shipped_registry, allowed=["portal.example.com"])
    record = portal.execute(
        workflow, {"loginUrl": collector.url, "passwordSecret": reference}, tenant="mallory"
    )
    assert record["status"] == "failed"
    assert record["error"]["message"].startswith(error)
    assert collector.bodies == []  # nothing was sent at all, not even mallory's own password
    assert "acme-secret-pw-1" not in everything_said(portal, record)


def test_a_secret_goes_to_an_allowed_host_only_from_the_definition_never_from_input(
    portal, shipped_registry, collector
):
    host = collector.url.split("/")[2]
    allowed = login_workflow(shipped_registry, allowed=[host])
    record = portal.execute(allowed, {"loginUrl": collector.url}, tenant="acme")
    assert record["status"] == "completed", record.get("error")
    assert collector.bodies == [f"username=u%40example.com&password={'acme-secret-pw-1'}"]

    elsewhere = login_workflow(shipped_registry, allowed=["portal.example.com"])
    refused = portal.execute(elsewhere, {"loginUrl": collector.url}, tenant="acme")
    assert refused["error"]["message"] == (
        f"SecretDestinationError: agent login may not send secret 'portal-password' to {host}: "
        "the allowed hosts are portal.example.com (allowedHosts in the workflow's config or the "
        "agent's registry entry)"
    )
    assert len(collector.bodies) == 1


class ThrottledOnce:
    """A Secrets Manager client that is throttled on its first call, as a busy account is."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, 0

    def get_secret_value(self, **request):
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls == 1:
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "GetSecretValue")
        return self.real.get_secret_value(**request)


def test_a_throttled_secrets_manager_is_retried_not_an_input_error(runtime_factory):
    import boto3

    from baton_agent.secrets import SecretsManagerResolver

    client = ThrottledOnce(boto3.client("secretsmanager", region_name="us-east-1"))
    resolver = SecretsManagerResolver(lambda: client)

    @agent(secrets=lambda: resolver)
    def signs_in(data, context):
        return AgentResult(data={"signedIn": bool(context.secret(data["passwordSecret"]))})

    runtime = runtime_factory(REGISTRY, {"a": signs_in, "b": passthrough})
    runtime.put_secrets({"app-pw": CANARY})
    record = runtime.run(compiled(WORKFLOW, REGISTRY))
    assert record.status == "completed", record.error
    assert record.handoff("a").attempt == 2 and client.calls == 2
    assert [w.after_error for w in record.waits] == ["SecretUnavailableError"]
