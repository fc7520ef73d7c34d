"""The agent runtime called as Lambda calls it: the response, the error names, the metrics."""

from __future__ import annotations

import json

import pytest

from baton_agent import AccuracyBelowThreshold, AgentInputError, AgentResult, agent
from baton_agent.cache import MemoryResultCache


def _cache():
    return MemoryResultCache()


@agent(cache=_cache)
def doubler(data, context):
    if "n" not in data:
        raise KeyError("n")
    return AgentResult(data={"double": data["n"] * 2}, accuracy=float(data.get("accuracy", 100)))


def event(**data):
    return {"agent": "doubler", "attempt": 2, "requiredAccuracy": 90, "data": data, "context": {}}


def test_response_carries_data_accuracy_and_the_handoff_meta():
    response = doubler(event(n=21))
    assert response["data"] == {"double": 42}
    assert response["accuracy"] == 100
    meta = response["meta"]
    assert (meta["agent"], meta["step"], meta["attempt"], meta["cached"]) == (
        "doubler",
        "doubler",
        2,
        False,
    )
    assert meta["validatedBy"] == ["accuracy-check"]
    assert meta["durationMs"] >= 0


def test_accuracy_gate_raises_the_stable_error_name():
    with pytest.raises(
        AccuracyBelowThreshold, match=r"Agent doubler accuracy \(80%\) below threshold \(90%\)"
    ):
        doubler(event(n=1, accuracy=80))


@pytest.mark.parametrize("event", [{"agent": "doubler"}, None, ["not", "a", "mapping"]])
def test_an_invocation_without_data_is_an_input_error(event):
    with pytest.raises(AgentInputError, match="carries no workflow data"):
        doubler(event)


def test_metrics_are_one_emf_document_per_invocation(monkeypatch, capsys):
    from baton.deploy.manifest import build_manifest
    from tests.conftest import make_registry

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # the namespace comes from the environment the manifest gives every agent
    environment = build_manifest(make_registry("doubler")).agents["doubler"].environment
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", environment["POWERTOOLS_METRICS_NAMESPACE"])
    doubler(event(n=2))
    with pytest.raises(AccuracyBelowThreshold):
        doubler(event(n=2, accuracy=10))
    documents = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    assert len(documents) == 2
    ok, failed = documents
    assert ok["agent"] == "doubler" and ok["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Baton"
    assert ok["StepAccuracy"] == [100.0] and ok["CacheHit"] == [0.0] and "StepDuration" in ok
    assert failed["StepFailed"] == [1.0]


def test_metrics_can_be_disabled(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    doubler(event(n=2))
    assert '"_aws"' not in capsys.readouterr().out


@pytest.mark.parametrize("accuracy", [1e9, -1, 100.0001, float("nan"), float("inf"), True, "99"])
def test_an_accuracy_that_is_not_a_number_from_0_to_100_is_an_agent_error(accuracy):
    from baton_agent import AgentError

    @agent
    def wild(data, context):
        return AgentResult(data={"x": 1}, accuracy=accuracy)

    with pytest.raises(
        AgentError, match=r"agent wild returned accuracy .*: an accuracy is a number from 0 to 100"
    ) as caught:
        wild({"agent": "wild", "data": {}, "context": {}})
    assert type(caught.value) is AgentError  # the name Step Functions retries, like any failure


@pytest.mark.parametrize("accuracy", [0, 100, 99.5])
def test_accuracies_at_and_inside_the_bounds_pass(accuracy):
    @agent
    def fine(data, context):
        return AgentResult(data={"x": 1}, accuracy=accuracy)

    assert fine({"agent": "fine", "data": {}, "context": {}})["accuracy"] == accuracy


def test_one_statistics_write_adds_every_call_of_every_agent_of_a_run():
    """A run's calls of its agents (a fan-out's items too) are added to the workflow's item in
    one UpdateItem, up to AGENTS_PER_UPDATE agents each; its expression stays under DynamoDB's
    4 KB limit on an expression."""
    from baton_agent.stats import AGENTS_PER_UPDATE, accuracy_updates

    (update,) = accuracy_updates("stats", "wf", {"sweep": [90.0, 70.5, 80.0], "tail": [99]}, 7)
    assert update["Key"] == {"pk": {"S": "WORKFLOW#wf"}}
    assert update["UpdateExpression"] == (
        "ADD #c0 :c0, #s0 :s0, #c1 :c1, #s1 :s1 SET #l0 = :l0, #l1 = :l1"
    )
    assert update["ExpressionAttributeNames"] == {
        "#c0": "calls#sweep",
        "#s0": "sum#sweep",
        "#l0": "last#sweep",
        "#c1": "calls#tail",
        "#s1": "sum#tail",
        "#l1": "last#tail",
    }
    assert update["ExpressionAttributeValues"] == {
        ":c0": {"N": "3"},
        ":s0": {"N": "240.5"},
        ":l0": {"L": [{"N": "7"}, {"N": "80.0"}]},
        ":c1": {"N": "1"},
        ":s1": {"N": "99.0"},
        ":l1": {"L": [{"N": "7"}, {"N": "99.0"}]},
    }
    many = {f"agent-number-{n:03}": [50.0] for n in range(AGENTS_PER_UPDATE * 2 + 1)}
    updates = accuracy_updates("stats", "wf", many, 7)
    assert [len(u["ExpressionAttributeNames"]) // 3 for u in updates] == [
        AGENTS_PER_UPDATE,
        AGENTS_PER_UPDATE,
        1,
    ]
    assert max(len(u["UpdateExpression"]) for u in updates) < 4096
    assert accuracy_updates("stats", "wf", {"idle": []}, 7) == []


def _dynamodb_bytes(value: dict) -> float:
    """An attribute value's size by DynamoDB's documented measure."""
    ((kind, inner),) = value.items()
    if kind == "N":
        digits = len(inner.replace("-", "").replace(".", "").strip("0")) or 1
        return 1 + digits / 2
    if kind == "L":
        return 3 + sum(1 + _dynamodb_bytes(element) for element in inner)
    return len(inner.encode())


def test_the_statistics_bill_is_at_least_the_item_size_and_close_to_it():
    """`baton cost` bills each statistics write at the workflow's item size: the estimate is
    never below DynamoDB's measure of a well-used item, nor far above it."""
    import math

    from baton_agent.stats import AGENTS_PER_UPDATE, accuracy_updates, stats_write_units

    agents = [f"a{n}-{'x' * (n % 40)}"[:40] for n in range(300)]
    run = {agent: [100 / 3] * 99_999 for agent in agents}  # long sums, many calls
    item: dict[str, dict] = {"pk": {"S": "WORKFLOW#long-workflow"}}
    for update in accuracy_updates("stats", "long-workflow", run, 1_790_000_000_000):
        values = update["ExpressionAttributeValues"]
        for placeholder, name in update["ExpressionAttributeNames"].items():
            item[name] = values[":" + placeholder[1:]]
    measured = sum(len(name.encode()) + _dynamodb_bytes(value) for name, value in item.items())
    updates = math.ceil(len(agents) / AGENTS_PER_UPDATE)
    estimated = stats_write_units("long-workflow", agents)
    assert updates * math.ceil(measured / 1024) <= estimated <= updates * measured / 1024 * 1.25


def test_statistics_sum_across_workflows_and_read_items_saved_before_the_layout_changed():
    """An agent's counts add up across its workflows' items; its last accuracy is the newest
    call's. An item a saved `baton serve` state kept from before `last#` held its time (then
    in `at#`) is read too."""
    from baton_agent.stats import _summed

    new = {
        "calls#a": {"N": "2"},
        "sum#a": {"N": "150.0"},
        "last#a": {"L": [{"N": "2000"}, {"N": "50.0"}]},
    }
    old = {
        "calls#a": {"N": "1"},
        "sum#a": {"N": "90.0"},
        "last#a": {"N": "90.0"},
        "at#a": {"N": "3000"},
    }
    assert _summed([new, old], {"a"}) == {
        "a": {"calls": 3, "rollingAccuracy": 80.0, "lastAccuracy": 90.0}
    }
    assert _summed([new], {"a"})["a"]["lastAccuracy"] == 50.0


@pytest.mark.parametrize(
    ("execution_id", "run_name", "number"),
    [
        ("exec_1", "exec_1-2", 2),  # the lifecycle's second run of exec_1
        ("order-2", "order-2", 0),  # started by hand, named order-2: no lifecycle's run
        ("exec_1", "other-3", 0),  # a run of another execution's name
    ],
)
def test_a_step_is_recorded_under_its_runs_number_only_when_the_lifecycle_named_the_run(
    execution_id, run_name, number
):
    """The fence admits a run number of 2 or more only once a resume made it current: a run
    started by hand whose name merely ends in `-<n>` must be taken for what it is (run 0),
    else its every step would be refused."""
    from baton_agent.runtime import using
    from baton_agent.testing import AgentTestKit

    kit = AgentTestKit()
    arn = f"arn:aws:states:us-east-1:123456789012:execution:machine:{run_name}"
    call = {**event(n=1), "context": {"executionId": execution_id, "run": arn}}
    with using(kit.backends):
        doubler(call)
    assert [step.run for step in kit.log.steps] == [number]


def _member_call(run_number: int, **data):
    arn = f"arn:aws:states:us-east-1:123456789012:execution:machine:exec_1-{run_number}"
    return {**event(**data), "group": True, "context": {"executionId": "exec_1", "run": arn}}


def test_a_resumed_runs_group_member_hands_on_what_an_earlier_run_recorded():
    """A resume enters a group again whole: a member the earlier run completed is not run
    again (its result is the recorded one, nothing is recorded twice); one it did not complete
    runs, and a member of a first run never looks."""
    from baton_agent.runtime import using
    from baton_agent.testing import AgentTestKit

    kit = AgentTestKit()
    ran: list[int] = []

    @agent
    def member(data, context):
        ran.append(data["n"])
        return AgentResult(data={"double": data["n"] * 2}, accuracy=95)

    with using(kit.backends):
        first = member(_member_call(1, n=21))
        again = member(_member_call(2, n=50))  # the same step: its earlier result is kept
        other = member({**_member_call(2, n=3), "step": "other"})  # no earlier handoff: runs
        member(_member_call(1, n=7))  # a first run has no earlier run to look at
    assert ran == [21, 3, 7]
    assert (again["data"], again["accuracy"]) == ({"double": 42}, 95)
    assert again["meta"]["reused"] is True and again["meta"]["run"] == first["meta"]["run"]
    assert other["data"] == {"double": 6} and "reused" not in other["meta"]
    assert [s.handoff["step"] for s in kit.log.steps] == ["doubler", "other", "doubler"]


def _item_call(run_number: int, index: int, item):
    arn = f"arn:aws:states:us-east-1:123456789012:execution:machine:exec_1-{run_number}"
    return {
        **event(),
        "group": True,
        "members": 3,
        "index": index,
        "item": item,
        "as": "site",
        "context": {"executionId": "exec_1", "run": arn},
    }


def test_a_resumed_runs_fan_out_item_hands_on_what_an_earlier_run_recorded():
    """A resume enters a fan-out again whole: an item the earlier run completed is found by its
    key (its place in the list and what it is) and not run again; an item it did not complete
    runs, and so does one whose place now holds another value (the list changed)."""
    from baton_agent.runtime import using
    from baton_agent.testing import AgentTestKit

    kit = AgentTestKit()
    ran: list[str] = []

    @agent
    def scraper(data, context):
        ran.append(data["site"])
        return AgentResult(data={"page": data["site"].upper()}, accuracy=90)

    with using(kit.backends):
        first = scraper(_item_call(1, 0, "/a"))
        again = scraper(_item_call(2, 0, "/a"))  # completed by run 1: kept
        fresh = scraper(_item_call(2, 1, "/b"))  # never completed: runs
        moved = scraper(_item_call(3, 0, "/z"))  # item 0 is now another value: runs
    assert ran == ["/a", "/b", "/z"]
    assert again["data"] == first["data"] == {"page": "/A"}
    assert again["meta"]["reused"] is True and again["meta"]["run"] == first["meta"]["run"]
    assert "reused" not in fresh["meta"] and "reused" not in moved["meta"]
    assert moved["data"] == {"page": "/Z"}
    keys = [s.item_key for s in kit.log.steps]
    assert [k.split("#")[0] for k in keys] == ["doubler[0]", "doubler[1]", "doubler[0]"]
    assert keys[0] != keys[2]  # the same place, another item: another key
