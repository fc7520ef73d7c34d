"""The compiler's history-event estimate matches what an execution records, and limits hold."""

from __future__ import annotations

import dataclasses
import math

import pytest

from baton.compiler.asl import compile_workflow
from baton.compiler.budget import history_budget
from baton.compiler.limits import expected_history_events
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import load_workflow, workflow_files
from tests.conftest import STATEMACHINES, make_registry, resolve
from tests.functional.agents import Calls, echo


@pytest.mark.parametrize("path", workflow_files(STATEMACHINES), ids=lambda p: p.name)
def test_estimate_equals_the_history_of_an_execution_without_failures(
    path, shipped_registry, runtime_factory
):
    workflow = as_standard(load_workflow(path, shipped_registry))
    calls = Calls()
    runtime = runtime_factory(
        shipped_registry, {a.name: echo(calls, a.name) for a in shipped_registry}
    )
    record = runtime.run(compile_workflow(workflow))
    assert record.status == "completed"
    assert record.metrics.failed_handoffs == 0
    history = runtime.history(record.current_run)
    budget = history_budget(workflow, items_of(workflow))
    if not workflow.for_each:
        assert len(history) == expected_history_events(workflow)
    assert counted(history, workflow) == counted(budget.failure_free, workflow)


def as_standard(workflow):
    """The budget counts a run on Standard (an Express run keeps no history, and its 25,000
    events limit does not apply): an Express workflow is compared as the same run on Standard."""
    return dataclasses.replace(workflow, type="standard")


def counted(history_or_cost, workflow) -> tuple[int, ...]:
    """Events and transitions of a run's history, or of a budget's figure. A Distributed Map's
    items run as child executions: its parent's history shows their events and transitions
    in none of its events (offline, moto keeps no child histories), so only events compare."""
    distributed = any(s.distributed for s in workflow.for_each.values())
    if isinstance(history_or_cost, list):
        figures = (len(history_or_cost), transitions(history_or_cost))
    else:
        figures = (history_or_cost.events, history_or_cost.transitions)
    return figures[:1] if distributed else figures


def items_of(workflow) -> dict[str, int]:
    """How many items each fan-out of a shipped workflow gets: its list in the initial data."""
    return {a: len(workflow.initial_data[s.items]) for a, s in workflow.for_each.items()}


def transitions(history) -> int:
    """State transitions as billed: every state entered, and every retry of a Task."""
    kinds = [e["type"] for e in history]
    entered = sum(1 for k in kinds if k.endswith("StateEntered"))
    return entered + kinds.count("TaskScheduled") - kinds.count("TaskStateEntered")


@pytest.mark.parametrize("path", workflow_files(STATEMACHINES), ids=lambda p: p.name)
def test_the_worst_case_equals_the_history_of_a_run_where_every_agent_fails_its_retries(
    path, shipped_registry, runtime_factory
):
    """Every agent with a fallback fails every attempt and its fallback runs; every other one
    fails all its retries but the last. The run completes, on the longest path the budget
    counts (the conditions' longer branches), with exactly its events and transitions."""
    workflow = as_standard(load_workflow(path, shipped_registry))
    calls = Calls()
    fallbacks = {a for a, p in workflow.policies.items() if p.strategy in ("skip", "alternative")}
    alternatives = {p.alternative for p in workflow.policies.values() if p.alternative}
    handlers = {
        spec.name: echo(
            calls,
            spec.name,
            always_fail=spec.name in fallbacks,
            # an alternative runs once, and succeeds
            fail_times=0
            if spec.name in alternatives
            else workflow.policy(spec.name).retry.max_attempts,
            # a fan-out: the tolerated share of its items fails every attempt
            failing_items=math.floor(
                items_of(workflow).get(spec.name, 0)
                * workflow.for_each[spec.name].tolerated_failure_percentage
                / 100
            )
            if spec.name in workflow.for_each
            else 0,
        )
        for spec in shipped_registry
    }
    runtime = runtime_factory(shipped_registry, handlers)
    budget = history_budget(workflow, items_of(workflow))
    record = runtime.run(compile_workflow(workflow))
    assert record.status == "completed", record.error
    history = runtime.history(record.current_run)
    assert counted(history, workflow) == counted(budget.worst, workflow)
    assert budget.failure_free.events < budget.worst.events < budget.with_lambda_faults.events


def test_a_workflow_that_cannot_fit_the_history_is_refused():
    names = [f"a{i}" for i in range(1, 41)]
    registry = make_registry(*names)
    groups = [names[i : i + 20] for i in (0, 20)]
    big = resolve(
        {"id": "big", "name": "Big", "agents": names, "config": {"parallelGroups": groups}},
        registry,
    )
    assert expected_history_events(big) < 25_000
    compile_workflow(big)
    many = [f"s{i}" for i in range(1, 5001)]
    registry = make_registry(*many)
    standard = resolve({"id": "long", "name": "Long", "agents": many}, registry)
    assert expected_history_events(standard) > 25_000
    with pytest.raises(DefinitionError) as caught:
        compile_workflow(standard)
    messages = [p.message for p in caught.value.problems]
    assert any("when nothing fails); Step Functions stops at 25,000" in m for m in messages)


def test_a_workflow_that_fits_only_when_nothing_fails_is_refused_with_what_to_change():
    many = [f"s{i}" for i in range(1, 801)]
    registry = make_registry(*many)
    config = {"maxRetries": 10}
    workflow = resolve({"id": "long", "name": "Long", "agents": many, "config": config}, registry)
    budget = history_budget(workflow)
    assert budget.failure_free.events == 6 + 5 * 800 < 25_000
    assert budget.worst.events == 6 + (5 + 3 * 10) * 800 > 25_000
    with pytest.raises(DefinitionError) as caught:
        compile_workflow(workflow)
    [problem] = caught.value.problems
    assert problem.message == (
        "a run could record 28,006 history events (every agent spending its retries, then its "
        "fallback; 4,006 when nothing fails); Step Functions stops at 25,000: lower "
        "maxRetries, or split the workflow into smaller ones chained by triggers"
    )
    fewer_retries = resolve(
        {"id": "long", "name": "Long", "agents": many, "config": {"maxRetries": 5}}, registry
    )
    compile_workflow(fewer_retries)  # 6 + 20 * 800 = 16,006 fits


def test_initial_data_over_256_kib_is_refused():
    registry = make_registry("a")
    workflow = resolve(
        {"id": "fat", "name": "Fat", "agents": ["a"], "initialData": {"blob": "x" * 300_000}},
        registry,
    )
    with pytest.raises(DefinitionError) as caught:
        compile_workflow(workflow)
    [problem] = caught.value.problems
    assert problem.path == "initialData"
    assert problem.message.startswith(
        "initialData is 293 KiB; Step Functions passes at most 256 KiB"
    )
