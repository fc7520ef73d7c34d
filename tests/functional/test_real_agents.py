"""The shipped workflows and the real agents, against the demo site on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from baton.compiler.asl import compile_workflow
from baton.definition.loader import load_workflow, offline_secrets
from tests.conftest import STATEMACHINES, compiled


@pytest.fixture
def runtime(runtime_factory, shipped_registry):
    runtime = runtime_factory(shipped_registry)
    runtime.put_secrets(offline_secrets())
    return runtime


def shipped(registry, name, site=None):
    """A shipped workflow, pointed at the demo site when one is given (as `baton run` does)."""
    workflow = load_workflow(STATEMACHINES / name, registry)
    return compile_workflow(site.point(workflow) if site is not None else workflow)


def test_sequential_data_extraction(runtime, shipped_registry, demo_site):
    record = runtime.run(shipped(shipped_registry, "sequential-data-extraction.json", demo_site))
    assert record.status == "completed", record.error
    assert [h.agent for h in record.handoffs] == ["login", "navigate", "extract", "webhook"]
    data = record.output
    assert data["records"] == [
        {"order": "A-1001", "customer": "Acme Corp", "total": "1250.00"},
        {"order": "A-1002", "customer": "Globex", "total": "310.50"},
        {"order": "A-1003", "customer": "Initech", "total": "98.99"},
    ]
    assert data["page"]["title"] == "Monthly orders"
    assert demo_site.count("POST /login") == 1 and demo_site.count("GET /orders") == 1
    [delivery] = demo_site.webhooks
    assert delivery["body"]["records"] == data["records"]
    expected = (
        "sha256="
        + hmac.new(b"demo-webhook-key", delivery["raw"].encode(), hashlib.sha256).hexdigest()
    )
    assert delivery["headers"]["X-Baton-Signature"] == expected
    assert data["webhook"]["status"] == 202


def test_extract_reads_json_pages_with_jsonpath(runtime, shipped_registry, demo_site):
    definition = {
        "id": "json-orders",
        "name": "JSON orders",
        "agents": ["navigate", "extract"],
        "initialData": {"baseUrl": demo_site.base_url, "targetUrl": "/api/orders.json"},
    }
    record = runtime.run(compiled(definition, shipped_registry))
    assert record.status == "completed", record.error
    assert record.output["records"][1] == {
        "order": "A-1002",
        "customer": "Globex",
        "total": 310.5,
    }


def test_parallel_multi_site_scraping(runtime, shipped_registry, demo_site):
    record = runtime.run(
        shipped(shipped_registry, "parallel-multi-site-scraping.json"),
        {"baseUrl": demo_site.base_url},
    )
    assert record.status == "completed", record.error
    report = record.output["report"]
    assert (report["offers"], report["minPrice"], report["maxPrice"]) == (6, 79.9, 124)
    assert report["cheapest"] == {
        "site": "/catalog/competitor3",
        "name": "Rain jacket",
        "price": 79.9,
    }
    assert all(demo_site.count(f"GET /catalog/competitor{i}") == 1 for i in (1, 2, 3))


@pytest.mark.parametrize(("price", "branch"), [(84.99, "slack-notify"), (99.99, "log")])
def test_price_change_alert_branches(runtime, shipped_registry, demo_site, price, branch):
    demo_site.prices["espresso"] = price
    record = runtime.run(
        shipped(shipped_registry, "price-change-alert.json"), {"baseUrl": demo_site.base_url}
    )
    assert record.status == "completed", record.error
    assert [h.agent for h in record.handoffs] == ["check-price", branch]
    if branch == "slack-notify":
        [message] = demo_site.slack
        assert (
            message["body"]["text"]
            == "Price dropped from 99.99 to 84.99 on /products/espresso (15% cheaper)"
        )
        assert message["body"]["blocks"][0]["type"] == "section"
    else:
        assert demo_site.slack == []


def test_every_feature_workflow(runtime, shipped_registry, demo_site):
    record = runtime.run(
        shipped(shipped_registry, "competitor-monitoring.yaml"), {"baseUrl": demo_site.base_url}
    )
    assert record.status == "completed", record.error
    by_agent = {h.agent: h for h in record.handoffs}
    assert by_agent["scraper-backup"].replaces == "scraper-2"
    assert by_agent["scraper-3"].skipped is True
    assert "AccuracyBelowThreshold" in by_agent["scraper-3"].data["reason"]
    assert demo_site.count("GET /catalog/outlet") == 2  # first try and one retry, then the mirror
    assert demo_site.count("GET /mirror/outlet") == 1
    assert record.output["report"]["sites"] == 2
    assert len(demo_site.slack) == 1


def test_cache_spares_the_site_within_the_ttl_and_per_tenant(runtime, shipped_registry, demo_site):
    workflow = shipped(shipped_registry, "parallel-multi-site-scraping.json")
    first = runtime.run(workflow, {"baseUrl": demo_site.base_url})
    second = runtime.run(workflow, {"baseUrl": demo_site.base_url})
    assert demo_site.count("GET /catalog/competitor1") == 1
    assert second.handoff("scraper-1").cached is True
    assert second.handoff("scraper-1").validated_by == ["cache"]
    assert second.output["report"] == first.output["report"]
    other = runtime.run(workflow, {"baseUrl": demo_site.base_url}, tenant="tenant-b")
    assert demo_site.count("GET /catalog/competitor1") == 2
    assert other.handoff("scraper-1").cached is False


def test_resume_after_a_fixed_fault_does_not_repeat_steps_one_and_two(
    runtime, shipped_registry, demo_site
):
    definition = {
        "id": "five-real",
        "name": "Five real steps",
        "agents": ["login", "navigate", "scraper-1", "aggregator", "log"],
        "initialData": {
            "baseUrl": demo_site.base_url,
            "loginUrl": "/login",
            "username": "user@example.com",
            "passwordSecret": "portal-password",
            "targetUrl": "/orders",
            "sites": ["/catalog/competitor1"],
        },
        "config": {
            "maxRetries": 1,
            "autoRecovery": False,
            "allowedHosts": [demo_site.base_url.split("//")[1]],
        },
    }
    workflow = compiled(definition, shipped_registry)
    demo_site.down.add("/catalog/competitor1")
    failed = runtime.execute(workflow)
    assert failed["status"] == "failed"
    assert failed["error"]["agentName"] == "scraper-1"

    demo_site.down.discard("/catalog/competitor1")
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])
    assert done["status"] == "completed"
    assert demo_site.count("POST /login") == 1
    assert demo_site.count("GET /orders") == 1
    assert demo_site.count("GET /catalog/competitor1") == 3
    assert [h["agent"] for h in done["handoffs"]] == [
        "login",
        "navigate",
        "scraper-1",
        "aggregator",
        "log",
    ]


def test_secrets_and_session_cookies_never_leave_the_agents(
    runtime_factory, shipped_registry, demo_site, capfd, caplog
):
    canary = "Canary-pw-7fQ2#zz"
    demo_site.password = canary
    runtime = runtime_factory(shipped_registry)
    runtime.put_secrets({**offline_secrets(), "portal-password": canary})
    record = runtime.execute(
        shipped(shipped_registry, "sequential-data-extraction.json", demo_site)
    )
    assert record["status"] == "completed", record.get("error")
    [session] = demo_site.sessions
    history = json.dumps(runtime.history(record["currentRun"]), default=str)
    stored = json.dumps(
        runtime.services.lifecycle.get("default", record["executionId"]), default=str
    )
    events = json.dumps(runtime.services.events())
    out, err = capfd.readouterr()
    logs = out + err + caplog.text
    for secret in (canary, session):
        for where, text in (
            ("history", history),
            ("record", stored),
            ("events", events),
            ("logs", logs),
        ):
            assert secret not in text, f"{secret!r} leaked into the {where}"
    assert record["handoffs"][0]["data"]["session"]["ref"].startswith("stash:")


def test_after_the_ttl_the_site_is_asked_again(runtime, shipped_registry, demo_site, monkeypatch):
    import time as real_time

    from baton_agent import runtime as agent_runtime

    later = {"by": 0.0}
    monkeypatch.setattr(agent_runtime, "now", lambda: real_time.time() + later["by"])
    workflow = shipped(shipped_registry, "parallel-multi-site-scraping.json")
    runtime.run(workflow, {"baseUrl": demo_site.base_url})
    later["by"] = 14 * 60  # the scrapers' TTL is 15 minutes
    runtime.run(workflow, {"baseUrl": demo_site.base_url})
    assert demo_site.count("GET /catalog/competitor1") == 1
    later["by"] = 16 * 60
    record = runtime.run(workflow, {"baseUrl": demo_site.base_url})
    assert demo_site.count("GET /catalog/competitor1") == 2
    assert record.handoff("scraper-1").cached is False
