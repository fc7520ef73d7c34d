"""`baton cost` checked against offline runs: the model counts exactly the billed requests an
execution makes (metered at moto's request hook), and the meter counts only those."""

from __future__ import annotations

import pytest

from baton.compiler.asl import compile_workflow
from baton.cost_view import comparison
from baton.definition.loader import load_workflow, offline_secrets
from baton.deploy.cost import usage
from baton.local.metering import measure, metered
from baton_agent import AgentResult, agent, keys
from tests.conftest import STATEMACHINES, make_registry, resolve
from tests.functional.agents import Calls, echo
from tests.unit.test_cost import COSTED, ITEMS, REGISTRY

pytestmark = pytest.mark.xdist_group("offline")


def differing(workflow, measured, items=None):
    return [row for row in comparison(usage(workflow, items), measured) if row[1] != row[2]]


def handlers(calls: Calls, **special):
    found = {spec.name: echo(calls, spec.name) for spec in REGISTRY}

    @agent
    def login(data, context):
        calls.add(agent="login")
        context.secret("token")
        return AgentResult(data={"session": "ok"})

    return {**found, "login": login, **special}


def test_a_run_with_a_group_a_condition_a_fan_out_a_cache_and_a_secret_counts_as_modelled(
    runtime_factory,
):
    """Every count agrees: requests by operation, transaction items, events, transitions."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, handlers(calls))
    runtime.put_secrets({"token": "t0k3n"})
    workflow = compile_workflow(load_costed())
    measured = measure(runtime, workflow)
    assert measured.status == "completed"
    assert sorted(calls.agents()) == sorted(
        ["login", "left", "right", "check", "alert", "sweep", "sweep", "sweep", "tail"]
    )
    assert differing(workflow.workflow, measured, ITEMS) == []
    assert measured.meter.requests["lambda.Invoke"] == 9  # the check compares real counts
    assert measured.meter.transaction_items == 18  # 2 per invocation
    # the sweep's 3 items went into its statistics in one write
    services = runtime.services
    assert services.stats.summaries(["sweep"], services.catalog.workflows)["sweep"]["calls"] == 3


def test_the_same_run_on_express_counts_as_modelled(runtime_factory):
    """An Express run reports its end to the events function itself, each agent reads the record before
    its step, and the end reads recorded failures instead of a history."""
    calls = Calls()
    # 5 s agents, no retries: a worst case that fits an Express run
    names = [spec.name for spec in REGISTRY]
    quick = make_registry(
        *names,
        **{
            **{name: {"timeout": "5s"} for name in names},
            "login": {"secrets": ["token"], "memory": 512, "timeout": "5s"},
            "left": {"cache": {"ttl": "60s"}, "timeout": "5s"},
        },
    )
    runtime = runtime_factory(quick, handlers(calls))
    runtime.put_secrets({"token": "t0k3n"})
    express = {
        **COSTED,
        "type": "express",
        "config": {**COSTED["config"], "maxRetries": 0},
        "forEach": {"sweep": {"items": "list", "maxItems": 3}},
    }
    workflow = compile_workflow(resolve(express, quick))
    measured = measure(runtime, workflow)
    assert measured.status == "completed"
    assert differing(workflow.workflow, measured, ITEMS) == []
    assert measured.meter.requests["lambda.Invoke"] == 9 + 1  # the agents, then its end
    assert "sfn.GetExecutionHistory" not in measured.meter.requests


def load_costed():
    return resolve(COSTED, REGISTRY)


@pytest.mark.parametrize(
    "name",
    [
        "sequential-data-extraction.json",
        "parallel-multi-site-scraping.json",
        "price-change-alert.json",
        "price-watch.yaml",  # an Express workflow: its run reports to the events function
    ],
)
def test_the_shipped_workflows_with_their_real_agents_count_as_modelled(
    name, shipped_registry, runtime_factory, demo_site
):
    """Their agents really sign in, fetch and post (on 127.0.0.1); what they keep in their
    stash is theirs, counted apart."""
    workflow = demo_site.point(load_workflow(STATEMACHINES / name, shipped_registry))
    runtime = runtime_factory(shipped_registry)
    runtime.put_secrets(offline_secrets())
    measured = measure(runtime, compile_workflow(workflow))
    assert measured.status == "completed"
    assert measured.failed_attempts == 0
    assert differing(workflow, measured) == []
    if name.startswith("sequential"):  # login keeps the session, navigate and extract take it
        assert measured.meter.agents_own == {"dynamodb.PutItem": 2, "dynamodb.GetItem": 2}


def test_a_retried_attempt_shows_as_a_difference(runtime_factory):
    """The model counts a run without failures: a failed attempt is one more invocation."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, handlers(calls, check=echo(calls, "check", fail_times=1)))
    runtime.put_secrets({"token": "t0k3n"})
    workflow = compile_workflow(load_costed())
    measured = measure(runtime, workflow)
    assert measured.status == "completed"
    assert measured.failed_attempts == 1
    rows = {
        name: (model, offline)
        for name, model, offline in differing(workflow.workflow, measured, ITEMS)
    }
    assert rows["lambda.Invoke"] == (9, 10)
    assert rows["state transitions"][1] == rows["state transitions"][0] + 1  # the retry


def test_the_harness_own_calls_are_not_counted(runtime_factory):
    """Reading a record or a run's status offline stands in for nothing AWS bills."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, handlers(calls))
    runtime.put_secrets({"token": "t0k3n"})
    workflow = compile_workflow(load_costed())
    record = runtime.execute(workflow)
    with metered() as meter:
        runtime.services.lifecycle.get(record["tenant"], record["executionId"])
        runtime.sfn.describe_execution(executionArn=record["currentRun"])
    assert meter.requests == {}
    assert meter.agents_own == {}


def test_a_records_writes_stay_under_1_kb_whatever_the_data(runtime_factory):
    """`baton cost` counts a unit per record write (an item up to 1 KB): the record's marks
    hold run numbers, not ARNs; its output is kept in an item of its own, written once, and
    its input too when it would take the record over 1 KB (baton_service.apart). By DynamoDB's
    measure, with every mark set: from no data to 50 KB the record stays under 1 KB, a small
    input stays inline (no item more), and the execution reads back whole."""
    from moto.dynamodb.models import dynamodb_backends

    from baton.local.runtime import ACCOUNT, REGION

    calls = Calls()
    registry = make_registry("a")
    runtime = runtime_factory(registry, {"a": echo(calls, "a")})
    workflow = compile_workflow(resolve({"id": "w", "name": "W", "agents": ["a"]}, registry))
    table = dynamodb_backends[ACCOUNT][REGION].get_table(runtime.manifest.tables["executions"].name)

    def stored(data: dict) -> tuple[int, set[str]]:
        """The record's size, and which values are kept apart."""
        record = runtime.execute(workflow, data)
        assert record["status"] == "completed"
        assert record["input"] == data and {k: record["output"][k] for k in data} == data
        key = keys.execution_pk(record["tenant"], record["executionId"])
        items = {i.range_key.value: i for i in table.all_items() if i.hash_key.value == key}
        marks = {"finishedRun", "countedRun", "publishedRun", "notifiedRun", "settledRun"}
        assert marks <= set(items[keys.RECORD].attrs)
        return int(items[keys.RECORD].size()), {keys.INPUT, keys.output_sk(1)} & set(items)

    sizes = [0, 25, 50, 75, 100, 150, 200, 300, 400, 600, 5_000, 50_000]
    kept = {n: stored({"n": 1, "text": "x" * n}) for n in sizes}
    assert all(size < 1024 for size, _ in kept.values()), kept
    assert kept[0][1] == {keys.output_sk(1)}  # a small input inline
    assert kept[50_000][1] == {keys.INPUT, keys.output_sk(1)}
    # the record would have kept the input inline as long as it fit, not beyond
    inline = [n for n, (_, apart) in kept.items() if keys.INPUT not in apart]
    assert 100 <= max(inline) < 600, kept


def test_a_long_failure_costs_each_write_of_the_record_at_most_2_units(runtime_factory):
    """A failure's message is cut in the record (and in its events and notification): the
    record's error is in each index's summary, so a 20 KB one would make every later write of
    the record, and of its indexes, cost 20 units. The run's history keeps the whole message."""
    from moto.dynamodb.models import dynamodb_backends

    from baton.local.runtime import ACCOUNT, REGION
    from baton_agent import AgentError
    from baton_service.events import ERROR_MESSAGE_CHARS

    @agent
    def a(data, context):
        raise AgentError("the portal answered: " + "x" * 20_000)

    runtime = runtime_factory(make_registry("a"), {"a": a})
    definition = {"id": "w", "name": "W", "agents": ["a"], "config": {"maxRetries": 0}}
    definition["config"]["autoRecovery"] = False
    record = runtime.execute(compile_workflow(resolve(definition, make_registry("a"))))
    assert record["status"] == "failed"
    message = record["error"]["message"]
    assert message.startswith("the portal answered: xxx")
    assert message.endswith(f"… [{20_021 - ERROR_MESSAGE_CHARS} more characters]")
    failed = [e for e in runtime.history(record["currentRun"]) if e["type"] == "TaskFailed"]
    assert "x" * 20_000 in failed[0]["taskFailedEventDetails"]["cause"]
    table = dynamodb_backends[ACCOUNT][REGION].get_table(runtime.manifest.tables["executions"].name)
    key = keys.execution_pk(record["tenant"], record["executionId"])
    [item] = [
        i for i in table.all_items() if i.hash_key.value == key and i.range_key.value == keys.RECORD
    ]
    assert int(item.size()) <= 2048  # not 20 KB
