"""What the console shows: masked values, timelines in time order with each wait after the
failure it followed, each state's status, and the graph's status classes; hostile text escaped."""

from __future__ import annotations

from baton.compiler.graph import to_mermaid
from baton.local.console.pages import execution_rows
from baton.local.console.views import (
    MASK,
    data_after_each_step,
    masked,
    state_statuses,
    timeline,
)
from tests.conftest import compiled, make_registry


def test_sensitive_fields_stash_references_and_stored_values_are_masked():
    data = {
        "passwordSecret": "portal-password",
        "session": {"ref": "stash:abc", "user": "ada"},
        "apiKey": "k",
        "page": "stash:xyz",
        "big": {"$batonRef": "t/sha", "bytes": 300000},
        "items": [{"token": "t"}, "stash:q", 3],
        "emptySecret": "",
        "price": 9.5,
    }
    assert masked(data) == {
        "passwordSecret": MASK,
        "session": MASK,
        "apiKey": MASK,
        "page": "stash:" + MASK,
        "big": "(kept in S3: 300,000 bytes)",
        "items": [{"token": MASK}, "stash:" + MASK, 3],
        "emptySecret": "",
        "price": 9.5,
    }


def test_the_timeline_orders_attempts_by_time_and_puts_each_wait_after_its_failure():
    failures = [
        {"step": "b", "agent": "b", "error": "E1", "timestamp": "2026-01-01 10:00:01.000000+00:00"},
        {"step": "b", "agent": "b", "error": "E2", "timestamp": "2026-01-01 10:00:03.000000+00:00"},
    ]
    handoffs = [
        {"step": "a", "agent": "a", "attempt": 1, "startedAt": "2026-01-01T10:00:00.500+00:00"},
        {"step": "b", "agent": "b", "attempt": 3, "startedAt": "2026-01-01T10:00:07.000Z"},
    ]
    entries = timeline(handoffs, failures, [("b", 2.0), ("b", 4.0)])
    assert [(e.kind, e.step, e.attempt, e.seconds) for e in entries] == [
        ("succeeded", "a", 1, None),
        ("failed", "b", 1, None),
        ("wait", "b", None, 2.0),
        ("failed", "b", 2, None),
        ("wait", "b", None, 4.0),
        ("succeeded", "b", 3, None),
    ]


def test_data_after_each_step_accumulates_results_and_skips_skipped_steps():
    handoffs = [
        {"step": "a", "data": {"x": 1, "cookie": "c"}},
        {"step": "b", "skipped": True, "data": {"skipped": True}},
        {"step": "c", "data": {"x": 2}},
    ]
    assert data_after_each_step({"in": 0}, handoffs) == [
        ("a", {"in": 0, "x": 1, "cookie": MASK}),
        ("b", {"in": 0, "x": 1, "cookie": MASK}),
        ("c", {"in": 0, "x": 2, "cookie": MASK}),
    ]


REGISTRY = make_registry("a", "b", "c", "alt")
WORKFLOW = {
    "id": "w",
    "name": "W",
    "agents": ["a", "b", "c"],
    "fallbacks": {
        "b": {"strategy": "skip"},
        "c": {"strategy": "alternative", "alternative": "alt"},
    },
}


def test_state_statuses_follow_the_handoffs_and_the_error():
    workflow = compiled(WORKFLOW, REGISTRY)
    record = {
        "status": "completed",
        "handoffs": [
            {"step": "a", "agent": "a"},
            {"step": "b", "agent": "b", "skipped": True},
            {"step": "c", "agent": "alt", "replaces": "c"},
        ],
    }
    statuses = state_statuses(workflow, record)
    assert statuses["a"] == "done" and statuses["Completed"] == "done"
    skip = next(s for s, i in workflow.states.items() if i.kind == "skip")
    alternative = next(s for s, i in workflow.states.items() if i.kind == "alternative")
    assert statuses[skip] == "skipped" and statuses["b"] == "skipped"
    assert statuses[alternative] == "done" and "c" not in statuses
    failed = state_statuses(
        workflow,
        {"status": "failed", "handoffs": [{"agent": "a"}], "error": {"agentName": "b"}},
    )
    assert failed["b"] == "failed" and skip not in failed


def test_the_graph_gives_each_state_its_status_class():
    workflow = compiled(WORKFLOW, REGISTRY)
    drawn = to_mermaid(workflow.asl, {"a": "done", "b": "failed", "nowhere": "done"})
    assert "  classDef done fill:#c9f2d0,stroke:#1e7b34,stroke-width:2px" in drawn
    lines = drawn.splitlines()
    ids = {line.split("[")[0].strip(): line for line in lines if '["a"]' in line or '["b"]' in line}
    assert len(ids) == 2
    assert any(line.startswith("  class ") and line.endswith(" failed") for line in lines)
    assert to_mermaid(workflow.asl).count("classDef") == 0


def test_hostile_values_are_escaped_in_the_list():
    html = execution_rows(
        [
            {
                "executionId": "<script>x</script>",
                "tenant": "t",
                "workflowId": 'w"><img',
                "status": "failed",
            }
        ]
    )
    assert "<script>" not in html and "&lt;script&gt;" in html and '"><img' not in html
