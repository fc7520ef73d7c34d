"""The REST API through its real Lambda handler, with API Gateway events: every route, every
error class, and tenant isolation (tenants "acme" and "acme-corp")."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

from baton.local.apigateway import rest_event
from baton.local.fake_lambda import FakeLambdaContext
from baton_agent import AgentError, AgentResult, agent
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo, wait_until
from tests.functional.deployed import configure_like_the_stack

REGISTRY = make_registry("a", "b", "c", c={"requiredAccuracy": 50})


@pytest.fixture
def api(runtime_factory, monkeypatch, tmp_path):
    """(call, runtime): call(method, path, tenant=..., body=..., query=..., headers=...)."""
    from api import handler as api_lambda
    from baton_agent.settings import get_settings

    gate: dict[str, Any] = {"b": "pass"}

    @agent
    def b(data, context):
        if gate["b"] == "fail":
            raise AgentError("b is down")
        if isinstance(gate["b"], threading.Event):  # held until the test sets it
            gate["running"].set()
            assert gate["b"].wait(10), "the test never released b"
        return AgentResult(data={"b": data.get("n", 0) * 2})

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a"), "b": b, "c": echo(calls, "c")})
    runtime.deploy(
        compiled(
            {
                "id": "pair",
                "name": "Pair",
                "agents": ["a", "b"],
                "metadata": {"description": "a then b"},
            },
            REGISTRY,
        )
    )
    runtime.deploy(
        compiled(
            {
                "id": "brittle",
                "name": "Brittle",
                "agents": ["b", "c"],
                "config": {"maxRetries": 0, "autoRecovery": False},
            },
            REGISTRY,
        )
    )
    configure_like_the_stack(runtime, runtime.manifest.api_function, monkeypatch, tmp_path)
    api_lambda.service.cache_clear()

    def call(method, path, *, tenant="acme", body=None, query=None, headers=None, raw=None):
        claims = {"custom:tenant": tenant, "sub": "user-1"} if tenant else None
        text = raw if raw is not None else (json.dumps(body) if body is not None else None)
        event = rest_event(method, path, query=query, headers=headers, body=text, claims=claims)
        response = api_lambda.handler(event, FakeLambdaContext("baton-api"))
        return response["statusCode"], json.loads(response["body"] or "null")

    call.gate = gate
    yield call, runtime
    get_settings.cache_clear()
    api_lambda.service.cache_clear()


def test_start_get_and_list_an_execution(api):
    call, runtime = api
    status, started = call("POST", "/workflows/pair/executions", body={"input": {"n": 21}})
    assert status == 201
    assert started["status"] in ("pending", "running")
    assert started["tenant"] == "acme" and started["workflowId"] == "pair"
    [run] = started["runs"]
    assert run["consoleUrl"] == (
        "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1"
        f"#/v2/executions/details/{run['executionArn']}"
    )
    runtime.services.settle("acme", started["executionId"])

    status, done = call("GET", f"/executions/{started['executionId']}")
    assert status == 200
    assert done["status"] == "completed"
    assert done["output"]["b"] == 42
    assert [h["agent"] for h in done["handoffs"]] == ["a", "b"]
    assert "inputHash" not in done

    status, page = call("GET", "/workflows/pair/executions", query={"status": "completed"})
    assert status == 200
    assert [e["executionId"] for e in page["executions"]] == [started["executionId"]]
    assert page["nextToken"] is None


def test_pagination_with_next_token(api):
    call, runtime = api
    ids = []
    for n in range(3):
        _, started = call("POST", "/workflows/pair/executions", body={"input": {"n": n}})
        runtime.services.settle("acme", started["executionId"])
        ids.append(started["executionId"])
    status, first = call("GET", "/workflows/pair/executions", query={"limit": "2"})
    assert status == 200 and len(first["executions"]) == 2 and first["nextToken"]
    _, second = call(
        "GET", "/workflows/pair/executions", query={"limit": "2", "nextToken": first["nextToken"]}
    )
    seen = [e["executionId"] for e in first["executions"] + second["executions"]]
    assert sorted(seen) == sorted(ids)
    # the token continues this listing only: not another tenant's, not another workflow's
    for tenant, path in (
        ("acme-corp", "/workflows/pair/executions"),
        ("acme", "/workflows/brittle/executions"),
    ):
        status, body = call("GET", path, tenant=tenant, query={"nextToken": first["nextToken"]})
        assert status == 400 and body["message"].startswith("query.nextToken"), body
    # not another filter's, and no altered or made-up token either
    token = first["nextToken"]
    position, mac = token.split(".")
    other_position = base64.urlsafe_b64encode(
        json.dumps([ids[0], "2020-01-01T00:00:00.000+00:00"]).encode()
    ).decode()
    for query in (
        {"nextToken": token, "status": "failed"},
        {"nextToken": position + "." + mac[::-1]},
        {"nextToken": other_position.rstrip("=") + "." + mac},
        {"nextToken": position},
    ):
        status, body = call("GET", "/workflows/pair/executions", query=query)
        assert status == 400 and body["message"].startswith("query.nextToken"), (query, body)
    # opaque: it shows where the page starts (an id the caller has seen), not the key layout
    decoded = base64.urlsafe_b64decode(position + "=" * (-len(position) % 4)).decode()
    assert json.loads(decoded)[0] in seen and "#" not in decoded


def test_a_resume_while_the_paused_runs_step_may_still_run_is_a_conflict(api):
    call, runtime = api
    release = call.gate["b"] = threading.Event()
    call.gate["running"] = threading.Event()
    _, started = call("POST", "/workflows/brittle/executions", body={})
    assert call.gate["running"].wait(10)
    status, paused = call("POST", f"/executions/{started['executionId']}/pause")
    assert status == 200 and paused["status"] == "paused"
    status, body = call("POST", f"/executions/{started['executionId']}/resume")
    assert status == 409
    assert "step b may still be running (until " in body["message"]
    release.set()
    wait_until(lambda: call("GET", f"/executions/{started['executionId']}")[1]["checkpoint"])
    status, resumed = call("POST", f"/executions/{started['executionId']}/resume")
    assert status == 200 and resumed["status"] == "running"
    assert runtime.services.settle("acme", started["executionId"])["status"] == "completed"


def test_cancel_pause_and_resume(api):
    call, runtime = api
    call.gate["b"] = "fail"
    _, failed = call("POST", "/workflows/brittle/executions", body={})
    failed = runtime.services.settle("acme", failed["executionId"])
    assert failed["status"] == "failed"

    status, body = call("POST", f"/executions/{failed['executionId']}/pause")
    assert status == 409 and "cannot pause" in body["message"]
    call.gate["b"] = "pass"
    status, resumed = call("POST", f"/executions/{failed['executionId']}/resume")
    assert status == 200 and resumed["status"] == "running"
    done = runtime.services.settle("acme", failed["executionId"])
    assert done["status"] == "completed"
    status, body = call("POST", f"/executions/{failed['executionId']}/cancel")
    assert status == 409 and "it is completed" in body["message"]
    status, body = call("POST", f"/executions/{failed['executionId']}/resume")
    assert status == 409


def test_cancel_a_running_execution(api):
    call, runtime = api
    slow = echo(Calls(), "a", sleep=1.0)
    runtime.dispatcher.handlers[runtime.manifest.agents["a"].function_name] = slow
    _, started = call("POST", "/workflows/pair/executions", body={})
    status, cancelled = call("POST", f"/executions/{started['executionId']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    assert runtime.services.settle("acme", started["executionId"])["status"] == "cancelled"


def test_idempotency_key_gives_the_same_execution_or_a_conflict(api):
    call, _ = api
    headers = {"Idempotency-Key": "order-7"}
    status, first = call(
        "POST", "/workflows/pair/executions", body={"input": {"n": 1}}, headers=headers
    )
    assert status == 201
    status, again = call(
        "POST", "/workflows/pair/executions", body={"input": {"n": 1}}, headers=headers
    )
    assert status == 201 and again["executionId"] == first["executionId"]
    status, body = call(
        "POST", "/workflows/pair/executions", body={"input": {"n": 2}}, headers=headers
    )
    assert status == 409 and "order-7" in body["message"]


def test_workflows_and_agents(api):
    call, runtime = api
    status, body = call("GET", "/workflows")
    assert status == 200
    assert {w["workflowId"]: w["description"] for w in body["workflows"]} == {
        "pair": "a then b",
        "brittle": "",
    }
    status, pair = call("GET", "/workflows/pair")
    assert status == 200
    assert pair["definition"]["agents"] == ["a", "b"]
    assert pair["graph"].startswith("flowchart")
    assert pair["stateMachineArn"].endswith(":stateMachine:baton-pair")
    _, started = call("POST", "/workflows/pair/executions", body={"input": {"n": 1}})
    runtime.services.settle("acme", started["executionId"])
    status, body = call("GET", "/agents")
    agents = {a["name"]: a for a in body["agents"]}
    assert set(agents) == {"a", "b", "c"}
    assert agents["a"]["statistics"]["calls"] == 1
    assert agents["a"]["statistics"]["rollingAccuracy"] == 100
    assert agents["c"]["statistics"] == {"calls": 0, "rollingAccuracy": None, "lastAccuracy": None}
    assert agents["c"]["requiredAccuracy"] == 50


@pytest.mark.parametrize(
    ("request_", "status", "message"),
    [
        (("POST", "/workflows/pair/executions", {"raw": "{not json"}), 400, "not valid JSON"),
        (("POST", "/workflows/pair/executions", {"body": {"input": [1, 2]}}), 400, "body.input"),
        (("POST", "/workflows/pair/executions", {"body": {"inputs": {}}}), 400, "body.inputs"),
        (
            ("POST", "/workflows/pair/executions", {"body": {"noCache": "maybe"}}),
            400,
            "body.noCache",
        ),
        (("GET", "/workflows/pair/executions", {"query": {"limit": "0"}}), 400, "query.limit"),
        (
            ("GET", "/workflows/pair/executions", {"query": {"limit": "1000000000"}}),
            400,
            "query.limit",
        ),
        (("GET", "/workflows/pair/executions", {"query": {"status": "odd"}}), 400, "query.status"),
        (
            ("GET", "/workflows/pair/executions", {"query": {"nextToken": "%%%"}}),
            400,
            "query.nextToken",
        ),
        (
            ("GET", "/workflows/pair/executions", {"query": {"nextToken": "eyJ4IjoxfQ=="}}),
            400,
            "query.nextToken",
        ),
        (("POST", "/workflows/nope/executions", {"body": {}}), 404, "no deployed workflow 'nope'"),
        (("GET", "/workflows/nope", {}), 404, "no deployed workflow"),
        (("GET", "/workflows/nope/executions", {}), 404, "no deployed workflow"),
        (("GET", "/executions/exec_1795669364249_abcdefghi", {}), 404, "no execution"),
        (("POST", "/executions/exec_1795669364249_abcdefghi/cancel", {}), 404, "no execution"),
        (("GET", "/executions/" + "x" * 3000, {}), 400, "is not an execution id"),
        (("GET", "/executions/exec_1%23x", {}), 400, "executionId: 'exec_1%23x' is not an"),
        (
            (
                "POST",
                "/workflows/pair/executions",
                {"body": {}, "headers": {"Idempotency-Key": "a#b"}},
            ),
            400,
            "header.Idempotency-Key: 'a#b' is not an idempotency key",
        ),
        (("POST", "/workflows/pair/executions", {"raw": "[]"}), 400, "body"),
        (
            ("POST", "/workflows/pair/executions", {"raw": '{"input": {"a": NaN}}'}),
            400,
            "NaN is not JSON",
        ),
        (
            ("POST", "/workflows/pair/executions", {"raw": '{"input": {"a": 1e999}}'}),
            400,
            "out of range",
        ),
        (("GET", "/executions", {}), 404, ""),
        (("GET", "/agents", {"tenant": None}), 401, "custom:tenant"),
        (("GET", "/agents", {"tenant": "acme#corp"}), 401, "custom:tenant"),
        (("GET", "/agents", {"tenant": ""}), 401, "custom:tenant"),
        (
            ("POST", "/workflows/pair/executions", {"body": {"input": {"x": "y" * 300_000}}}),
            413,
            "256 KiB",
        ),
    ],
)
def test_bad_requests_get_a_clear_json_error_never_a_500(api, request_, status, message):
    call, _ = api
    method, path, options = request_
    got, body = call(method, path, **options)
    assert got == status, body
    assert message in body["message"]


def test_tenants_cannot_reach_each_other(api):
    call, runtime = api
    _, mine = call("POST", "/workflows/pair/executions", tenant="acme", body={"input": {"n": 1}})
    runtime.services.settle("acme", mine["executionId"])
    _, theirs = call("POST", "/workflows/brittle/executions", tenant="acme-corp", body={})
    runtime.services.settle("acme-corp", theirs["executionId"])
    for path in (f"/executions/{mine['executionId']}",):
        assert call("GET", path, tenant="acme-corp")[0] == 404
        assert call("GET", path, tenant="acme")[0] == 200
    for action in ("cancel", "pause", "resume"):
        status, body = call(
            "POST", f"/executions/{mine['executionId']}/{action}", tenant="acme-corp"
        )
        assert status == 404, (action, body)
        status, body = call("POST", f"/executions/{theirs['executionId']}/{action}", tenant="acme")
        assert status == 404, (action, body)
    _, listed = call("GET", "/workflows/pair/executions", tenant="acme-corp")
    assert listed["executions"] == []
    _, listed = call("GET", "/workflows/brittle/executions", tenant="acme")
    assert listed["executions"] == []
    assert (
        call("GET", f"/executions/{mine['executionId']}", tenant="acme")[1]["status"] == "completed"
    )


def test_a_start_without_a_body_has_no_input(api):
    call, runtime = api
    status, started = call("POST", "/workflows/pair/executions")
    assert status == 201 and started["input"] == {}
    assert runtime.services.settle("acme", started["executionId"])["status"] == "completed"
