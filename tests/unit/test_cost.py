"""`baton cost`'s model: the billed requests of one execution, priced, Standard against Express."""

from __future__ import annotations

import math

import pytest

from baton.compiler.budget import history_budget
from baton.compiler.express import EXPRESS_LIMIT_SECONDS, WORKFLOW_SECONDS
from baton.deploy.cost import Assumptions, cost_report, usage
from baton.deploy.prices import PUBLISHED
from tests.conftest import make_registry, resolve

REGISTRY = make_registry(
    "login",
    "left",
    "right",
    "check",
    "alert",
    "quiet",
    "sweep",
    "tail",
    login={"secrets": ["token"], "memory": 512},
    left={"cache": {"ttl": "60s"}},
)
COSTED = {
    "id": "costed",
    "name": "Costed",
    "agents": ["login", "left", "right", "check", "alert", "quiet", "sweep", "tail"],
    "initialData": {"x": 2, "list": [1, 2, 3]},
    "config": {"parallelGroups": [["left", "right"]]},
    "conditions": [{"after": "check", "when": "x > 1", "then": ["alert"], "else": ["quiet"]}],
    "forEach": {"sweep": {"items": "list"}},
}
ITEMS = {"sweep": 3}


def test_every_request_of_a_run_without_failures_is_counted():
    """login, check, alert (the `then` branch) and tail are steps: each writes its handoff and
    the checkpoint; left and right (a group) and sweep's 3 items write a handoff and check the
    fence: 2 transaction items each, never a check of the record."""
    used = usage(resolve(COSTED, REGISTRY), ITEMS)
    assert dict(used.requests) == {
        "lambda.Invoke": 9,
        "dynamodb.TransactWriteItems": 9,
        "dynamodb.PutItem": 1 + 1 + 1,  # the record; left's cache miss; the output
        "dynamodb.GetItem": 1,  # left's cache (a start reads none)
        "dynamodb.Query": 1,  # SUCCEEDED's record with its handoffs
        "dynamodb.UpdateItem": 1 + 3 + 1,  # start, SUCCEEDED, the statistics
        "eventbridge.PutEvents": 1 + 1,  # the start's "Workflow Started"; the end's 10 entries
        "sns.Publish": 1,
        "s3.PutObject": 1,
        "secrets-manager.GetSecretValue": 1,
        "sfn.StartExecution": 1,
        "sfn.GetExecutionHistory": 1,
    }
    assert used.transaction_items == 9 * 2
    assert used.event_entries == 1 + 9 + 1  # Started; Agent Completed ×9 and Completed
    # the index writes: the record's put (3 indexes), its outcome (3, and the status index's
    # delete); the marks and the run's ARN change nothing the indexes hold
    assert used.index_writes == 3 + 4
    # 7 agents' statistics: one item under 1 KB
    assert used.write_units == 3 + 4 + 1 + 2 * 18 + used.index_writes
    assert used.read_units == 1 + 1
    assert used.agent_invocations["sweep"] == 3
    assert (
        used.transitions
        == history_budget(resolve(COSTED, REGISTRY), ITEMS).failure_free.transitions
    )


def test_a_condition_counts_its_costlier_branch_and_a_fan_out_its_max_items():
    definition = {
        **COSTED,
        "conditions": [
            {"after": "check", "when": "x > 1", "then": ["alert"], "else": ["quiet", "tail"]}
        ],
        "agents": ["login", "check", "alert", "quiet", "tail", "sweep"],
        "config": {},
        "forEach": {"sweep": {"items": "list", "maxItems": 7}},
    }
    used = usage(resolve(definition, REGISTRY))
    assert used.agent_invocations == {"login": 1, "check": 1, "quiet": 1, "tail": 1, "sweep": 7}


def test_publishing_goes_in_requests_of_ten_events():
    agents = [f"a{i}" for i in range(12)]
    registry = make_registry(*agents)
    used = usage(resolve({"id": "wide", "name": "Wide", "agents": agents}, registry))
    assert used.event_entries == 1 + 12 + 1
    assert used.requests["eventbridge.PutEvents"] == 1 + 2  # Started; 13 entries in 2 requests


def test_the_bill_prices_each_count_at_the_published_price():
    report = cost_report(resolve(COSTED, REGISTRY), ITEMS, Assumptions(agent_seconds=2.0))
    lines = {line.what: line for line in report.shared}
    compute = lines["Lambda compute"]
    # 8 agents at 256 MB and login at 512 MB for 2 s; the API and events functions (2 calls:
    # the start, the end) at 512 MB for 0.1 s
    assert compute.quantity == pytest.approx(8 * 0.25 * 2 + 0.5 * 2 + 2 * 0.5 * 0.1)
    assert compute.price == PUBLISHED.lambda_gb_second
    assert lines["Lambda invocations"].quantity == 9 + 2
    assert lines["DynamoDB writes"].dollars == pytest.approx((44 + 7) * 0.625e-6)
    [standard] = report.standard
    assert standard.dollars == pytest.approx(report.usage.transitions * 0.000025)
    assert report.total("standard") == pytest.approx(
        sum(line.dollars for line in report.shared) + standard.dollars
    )


def test_express_bills_the_run_in_100_ms_increments_of_64_mb():
    """Six agent times end to end (login, the group, check, alert, the sweep's one round,
    tail): 6 × 0.33 s = 1.98 s, billed as 2.0 s."""
    report = cost_report(resolve(COSTED, REGISTRY), ITEMS, Assumptions(agent_seconds=0.33))
    assert report.run_seconds == pytest.approx(1.98)
    requests, duration = report.express
    assert requests.dollars == pytest.approx(1e-6)
    # 1.98 s of agents and 0.1 s of its report to the events function, in 100 ms steps
    assert duration.quantity == pytest.approx(2.1 * 64 / 1024)
    assert duration.dollars == pytest.approx(2.1 * 64 / 1024 * 0.00001667)


def test_express_fits_when_the_worst_case_is_within_five_minutes():
    quick = make_registry("a", "b", a={"timeout": "5s"}, b={"timeout": "5s"})
    definition = {
        "id": "quick",
        "name": "Quick",
        "agents": ["a", "b"],
        "config": {"maxRetries": 2, "backoff": {"interval": "1s", "rate": 2}, "timeout": "1h"},
    }
    report = cost_report(resolve(definition, quick))
    task = 5 + 15  # the Task outlasts the function by its margin
    assert report.worst_seconds == 2 * (3 * task + 1 + 2)
    assert report.fits_express

    slow = make_registry("a", "b", a={"timeout": "90s"}, b={"timeout": "5s"})
    report = cost_report(resolve(definition, slow))
    assert report.worst_seconds == 3 * (90 + 15) + 3 + 3 * task + 3
    assert report.worst_seconds > EXPRESS_LIMIT_SECONDS
    assert not report.fits_express

    assert "worst case is 381s" in report.express_problems[0]

    capped = {**definition, "config": {**definition["config"], "timeout": "4m"}}
    report = cost_report(resolve(capped, slow))
    assert report.worst_seconds == 240  # the workflow's own timeout ends a Standard run first
    # an Express run is never killed at the timeout (a killed run could not report its end):
    # the timeout is kept between steps, so every attempt must fit
    assert not report.fits_express

    within = make_registry("a", "b", a={"timeout": "30s"}, b={"timeout": "5s"})
    report = cost_report(resolve(definition, within))
    assert report.worst_seconds == 3 * (30 + 15) + 3 + 3 * task + 3 <= WORKFLOW_SECONDS
    assert report.fits_express


def test_a_fan_out_lasts_one_agent_time_per_round_of_its_concurrency():
    definition = {**COSTED, "forEach": {"sweep": {"items": "list", "maxConcurrency": 4}}}
    report = cost_report(resolve(definition, REGISTRY), {"sweep": 10})
    assert report.run_seconds == 5 + math.ceil(10 / 4)
