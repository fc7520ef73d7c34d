"""The shipped example workflows run offline with the real example agents."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from baton.compiler.asl import compile_workflow
from baton.definition.loader import load_workflow, offline_secrets
from tests.conftest import STATEMACHINES


@pytest.fixture
def runtime(runtime_factory, shipped_registry):
    runtime = runtime_factory(shipped_registry)
    runtime.put_secrets(offline_secrets())
    return runtime


def run_shipped(runtime, registry, name, data=None):
    return runtime.run(compile_workflow(load_workflow(STATEMACHINES / name, registry)), data or {})


def test_sequential_data_extraction(runtime, shipped_registry):
    record = run_shipped(runtime, shipped_registry, "sequential-data-extraction.json")
    assert record.status == "completed"
    assert [h.agent for h in record.handoffs] == ["login", "navigate", "extract", "webhook"]
    data = record.workflow_data
    assert data["session"]["user"] == "user@example.com"
    assert data["page"]["title"] == "Monthly orders"
    assert data["records"] == [
        {"order": "A-1001", "customer": "Acme Corp", "total": "1250.00"},
        {"order": "A-1002", "customer": "Globex", "total": "310.50"},
        {"order": "A-1003", "customer": "Initech", "total": "98.99"},
    ]
    body = json.dumps(
        {"workflow": "workflow_sequential_001", "records": data["records"]},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    expected = "sha256=" + hmac.new(b"baton-local-signing-key", body, hashlib.sha256).hexdigest()
    assert data["webhook"]["headers"]["X-Baton-Signature"] == expected
    assert data["webhook"]["bytes"] == len(body)


def test_parallel_multi_site_scraping(runtime, shipped_registry):
    record = run_shipped(runtime, shipped_registry, "parallel-multi-site-scraping.json")
    assert record.status == "completed"
    report = record.workflow_data["report"]
    assert report["offers"] == 6
    assert report["minPrice"] == 79.9
    assert report["maxPrice"] == 124
    assert report["cheapest"] == {
        "site": "https://competitor3.example.com/catalog",
        "name": "Rain jacket",
        "price": 79.9,
    }
    assert report["meanPrice"] == round((119 + 89.5 + 109.99 + 94 + 124 + 79.9) / 6, 2)


@pytest.mark.parametrize(("last", "branch"), [(99.99, "slack-notify"), (84.99, "log")])
def test_price_change_alert_branches(runtime, shipped_registry, last, branch):
    record = run_shipped(
        runtime, shipped_registry, "price-change-alert.json", {"lastKnownPrice": last}
    )
    assert record.status == "completed"
    assert [h.agent for h in record.handoffs] == ["check-price", branch]
    assert record.workflow_data["currentPrice"] == 84.99
    if branch == "slack-notify":
        assert record.workflow_data["slack"]["message"]["text"].startswith(
            "Price dropped from 99.99 to 84.99"
        )
    else:
        assert record.workflow_data["log"]["message"].startswith("no change: ")


def test_every_feature_workflow(runtime, shipped_registry):
    record = run_shipped(runtime, shipped_registry, "competitor-monitoring.yaml")
    assert record.status == "completed"
    by_agent = {h.agent: h for h in record.handoffs}
    assert by_agent["scraper-backup"].replaces == "scraper-2"
    assert by_agent["scraper-3"].skipped is True
    assert "AccuracyBelowThreshold" in by_agent["scraper-3"].data["reason"]
    assert record.workflow_data["report"]["sites"] == 2
    assert record.workflow_data["dropPercent"] == 15
    assert "slack" in record.workflow_data and "log" not in record.workflow_data
    assert [w.seconds for w in record.waits] == [2, 2]
