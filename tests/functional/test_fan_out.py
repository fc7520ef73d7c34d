"""Fan-out over data (`forEach`): one agent once per item of a list in the workflow data, as an
inline Map up to a concurrency of 40 and a Distributed Map beyond; results in item order, each
item's handoff recorded, failed items within the tolerated share kept, over it the run fails."""

from __future__ import annotations

import pytest

from baton.compiler.asl import compile_workflow
from baton.compiler.budget import history_budget
from baton_agent import AgentError, AgentResult, agent
from tests.conftest import compiled, make_registry, resolve
from tests.functional.agents import Calls, echo
from tests.functional.test_limits import transitions

SITES = 200


def sweep(concurrency: int, tolerated: float = 0) -> dict:
    return {
        "id": f"sweep-{concurrency}",
        "name": "Catalog sweep",
        "agents": ["site-scraper", "aggregator"],
        "initialData": {"baseUrl": "http://demo-site.local"},
        "config": {"autoRecovery": False},
        "forEach": {
            "site-scraper": {
                "items": "sites",
                "as": "site",
                "into": "scraped",
                "maxConcurrency": concurrency,
                "toleratedFailurePercentage": tolerated,
            }
        },
    }


@pytest.mark.parametrize(("concurrency", "mode"), [(40, "INLINE"), (100, "DISTRIBUTED")])
def test_one_scraper_over_200_sites_served_on_127_0_0_1(
    shipped_registry, runtime_factory, demo_site, concurrency, mode
):
    shops = {f"shop{i}": [("Trail shoe", f"${100 + i}.00")] for i in range(SITES)}
    demo_site.catalogs.update(shops)
    sites = [f"/catalog/shop{i}" for i in range(SITES)]
    workflow = demo_site.point(resolve(sweep(concurrency), shipped_registry))
    runtime = runtime_factory(shipped_registry)
    compiled_workflow = compile_workflow(workflow)
    [fan_out] = [s for s in compiled_workflow.asl["States"].values() if s["Type"] == "Map"]
    assert fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == mode
    assert fan_out["MaxConcurrency"] == concurrency

    record = runtime.execute(compiled_workflow, {"sites": sites})
    assert record["status"] == "completed", record.get("error")
    assert demo_site.count("GET /catalog/shop") == SITES  # every page really fetched, once
    scraped = record["output"]["scraped"]
    assert [r["site"] for r in scraped] == sites  # in item order, whatever order they ran in
    assert [r["products"][0]["price"] for r in scraped] == [100.0 + i for i in range(SITES)]
    steps = sorted(h["step"] for h in record["handoffs"] if h["agent"] == "site-scraper")
    assert steps == sorted(f"site-scraper[{i}]" for i in range(SITES))  # one handoff per item
    # counted from what the agents recorded: a Distributed Map's items too
    assert record["metrics"]["successfulHandoffs"] == SITES + 1
    report = record["output"]["report"]
    assert report["sites"] == SITES and report["minPrice"] == 100.0
    assert report["maxPrice"] == 100.0 + SITES - 1


@pytest.mark.parametrize(
    ("tolerated", "status"), [(10, "completed"), (5, "failed")], ids=["under", "over"]
)
def test_a_failing_item_under_and_over_the_tolerated_percentage(runtime_factory, tolerated, status):
    """One item of ten fails every attempt (10 %): tolerated at 10 %, the run completes with
    the failure in its place among the results; at 5 % the run fails, naming the item, and the
    nine handoffs done are kept (nothing lost, nothing run twice)."""
    registry = make_registry("a", "b")
    calls = Calls()
    handlers = {"a": echo(calls, "a", failing_items=1), "b": echo(calls, "b")}
    runtime = runtime_factory(registry, handlers)
    definition = {
        "id": "tolerance",
        "name": "Tolerance",
        "agents": ["a", "b"],
        "config": {"autoRecovery": False, "maxRetries": 1},
        "forEach": {"a": {"items": "list", "toleratedFailurePercentage": tolerated}},
    }
    record = runtime.execute(compiled(definition, registry), {"list": list(range(10))})
    assert record["status"] == status, record.get("error")
    done = sorted(h["step"] for h in record["handoffs"] if h["agent"] == "a")
    assert done == sorted(f"a[{i}]" for i in range(1, 10))
    assert calls.count("a") == 2 + 9  # the failing item's two attempts, one for each other
    if status == "completed":
        results = record["output"]["listResults"]
        assert results[0]["failed"] is True and results[0]["index"] == 0
        assert results[0]["error"] == "AgentError"
        assert [r["a"] > 0 for r in results[1:]] == [True] * 9
        assert calls.count("b") == 1
        return
    assert record["error"]["errorType"] == "TooManyItemsFailed"
    assert record["error"]["message"].endswith(
        "1 of 10 items of a failed (5% tolerated); the first is item 0: AgentError"
    )
    assert calls.count("b") == 0


@pytest.mark.parametrize(
    ("kind", "concurrency"),
    [("standard", 4), ("standard", 50), ("express", 4)],
    ids=["inline", "distributed", "express"],
)
def test_a_resume_runs_no_completed_item_again(runtime_factory, kind, concurrency):
    """Two items of twelve fail and the run fails (none tolerated) with ten items done. The
    resumed run enters the fan-out again whole: each item an earlier run completed hands on
    its recorded result (found by its key: its place in the list and its value) and is not
    called, recorded, counted or announced again; the two failed ones run. One handoff per
    item in the record, results in item order."""
    registry = make_registry("a", "b", a={"timeout": "5s"}, b={"timeout": "5s"})  # Express fits
    ran: list[int] = []
    broken = {3, 8}

    @agent
    def scrape(data, context):
        ran.append(data["item"])
        if data["item"] in broken:
            raise AgentError(f"item {data['item']} is down")
        return AgentResult(data={"page": data["item"] * 10})

    calls = Calls()
    runtime = runtime_factory(registry, {"a": scrape, "b": echo(calls, "b")})
    definition = {
        "id": "resumable-sweep",
        "name": "Resumable sweep",
        "type": kind,
        "agents": ["a", "b"],
        "config": {"autoRecovery": False, "maxRetries": 0},
        "forEach": {"a": {"items": "list", "maxConcurrency": concurrency, "maxItems": 12}},
    }
    workflow = compiled(definition, registry)
    items = list(range(12))

    failed = runtime.execute(workflow, {"list": items})
    assert failed["status"] == "failed" and failed["error"]["errorType"] == "TooManyItemsFailed"
    assert sorted(ran) == items and calls.count("b") == 0
    assert len([h for h in failed["handoffs"] if h["agent"] == "a"]) == 10

    broken.clear()
    runtime.services.lifecycle.resume("default", failed["executionId"])
    done = runtime.services.settle("default", failed["executionId"])

    assert done["status"] == "completed", done.get("error")
    assert sorted(ran) == sorted([*items, 3, 8])  # only the two failed items ran again
    assert [r["page"] for r in done["output"]["listResults"]] == [i * 10 for i in items]
    steps = [h["step"] for h in done["handoffs"] if h["agent"] == "a"]
    assert sorted(steps) == sorted(f"a[{i}]" for i in items)  # each item once
    finished = [h["finishedAt"] for h in done["handoffs"]]
    assert finished == sorted(finished)  # in the order they finished, whatever their keys
    assert done["metrics"]["successfulHandoffs"] == 3  # the resumed run's own: a[3], a[8], b
    announced = [
        e["detail"]["step"]
        for e in runtime.services.events()
        if e["detail-type"] == "Agent Completed" and e["detail"]["agent"] == "a"
    ]
    assert sorted(announced) == sorted(f"a[{i}]" for i in items)
    assert runtime.services.stats.summaries(["a"], ["resumable-sweep"])["a"]["calls"] == 12


@pytest.mark.parametrize("concurrency", [1, 50], ids=["inline", "distributed"])
@pytest.mark.parametrize("case", ["failure-free", "worst"])
def test_the_budget_counts_the_items_as_the_history_records_them(
    runtime_factory, concurrency, case
):
    """The inline Map runs one item at a time here: under load, concurrent iterations offline
    have twice shown one attempt more than scripted (cause not found yet; see issue 9's
    note), which a count of events cannot tell from a wrong budget."""
    registry = make_registry("a", "b")
    items = 12
    definition = {
        "id": "budget",
        "name": "Budget",
        "agents": ["a", "b"],
        "config": {"autoRecovery": False, "maxRetries": 2},
        "forEach": {
            "a": {"items": "list", "maxConcurrency": concurrency, "toleratedFailurePercentage": 25}
        },
    }
    worst = case == "worst"
    calls = Calls()
    handlers = {
        "a": echo(calls, "a", fail_times=2 if worst else 0, failing_items=3 if worst else 0),
        "b": echo(calls, "b", fail_times=2 if worst else 0),
    }
    runtime = runtime_factory(registry, handlers)
    workflow = compiled(definition, registry)
    record = runtime.execute(workflow, {"list": list(range(items))})
    assert record["status"] == "completed", record.get("error")
    budget = history_budget(workflow.workflow, {"a": items})
    expected = budget.worst if worst else budget.failure_free
    history = runtime.history(record["currentRun"])
    unexpected = [  # anything but the agents' own errors would add attempts the budget lacks
        e["taskFailedEventDetails"]
        for e in history
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["error"] != "AgentError"
    ]
    assert unexpected == []
    if concurrency > 40:  # the parent records the Map run; its transitions are still billed
        assert len(history) == expected.events
    else:
        assert (len(history), transitions(history)) == (expected.events, expected.transitions)
    if concurrency <= 40:
        assert calls.count("a") == (items * 3 if worst else items)
    done = sorted(h["step"] for h in record["handoffs"] if h["agent"] == "a")
    recorded = range(3, items) if worst else range(items)  # the failing ones record nothing
    assert done == sorted(f"a[{i}]" for i in recorded)  # each item once


def test_a_fan_out_over_a_missing_list_fails_naming_the_state(runtime_factory):
    registry = make_registry("a")
    runtime = runtime_factory(registry, {"a": echo(Calls(), "a")})
    definition = {
        "id": "missing",
        "name": "Missing",
        "agents": ["a"],
        "config": {"autoRecovery": False},
        "forEach": {"a": "list"},
    }
    workflow = compiled(definition, registry)
    # the Map reads the list in Step Functions: it never moves to S3
    assert """'inline': ["list"]""" in workflow.asl["States"]["Start"]["Assign"]["ctx"]
    record = runtime.execute(workflow, {"other": 1})
    assert record["status"] == "failed"
    assert "a for each of list" in record["error"]["message"]
