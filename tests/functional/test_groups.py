"""Parallel groups whose members retry and fall back alike share one Task: one state transition
per member, each member still invoked as itself, skipped or replaced as itself, its waits and
failures recorded under its own step."""

from __future__ import annotations

from collections import Counter

import pytest

from baton.compiler.budget import history_budget
from baton_service.history import RunHistory
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

pytestmark = pytest.mark.xdist_group("offline")
REGISTRY = make_registry("a", "b", "c", "d", "e", "x", "y")


def group(**fallbacks):
    return {
        "id": "grouped",
        "name": "Grouped",
        "agents": ["a", "b", "c", "d", "e"],
        "config": {"parallelGroups": [["b", "c", "d"]], "maxRetries": 1, "autoRecovery": False},
        "fallbacks": fallbacks,
    }


def run(runtime_factory, definition, handlers, runtime=None):
    workflow = compiled(definition, REGISTRY)
    runtime = runtime or runtime_factory(REGISTRY, handlers)
    record = runtime.run(workflow)
    return workflow, record, runtime.history(record.current_run)


def test_members_that_share_a_task_cost_one_transition_each(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in "abcde"}
    runtime = runtime_factory(REGISTRY, handlers)
    workflow, record, history = run(runtime_factory, group(), handlers, runtime)
    assert record.status == "completed"
    assert sorted(h.agent for h in record.handoffs) == ["a", "b", "c", "d", "e"]
    assert record.output["trail"][-1] == "e"
    entered = [e for e in history if e["type"].endswith("StateEntered")]
    in_group = [e for e in entered if e["stateEnteredEventDetails"]["name"].startswith("Run ")]
    assert len(in_group) == 3  # one Task per member, no router
    budget = history_budget(workflow.workflow).failure_free
    assert (len(history), RunHistory(history).transitions) == (budget.events, budget.transitions)
    # Start, Resume router, a, the Map, 3 members, e
    assert budget.transitions == 2 + 1 + 1 + 3 + 1

    # the same group with one member retrying differently: a Parallel state, a branch each
    branched = {**group(c={"strategy": "retry", "maxRetries": 2}), "id": "branched"}
    workflow, record, history = run(runtime_factory, branched, handlers, runtime)
    assert record.status == "completed"
    assert record.output["trail"][-1] == "e" and {"b", "c", "d"} <= set(record.output)
    budget = history_budget(workflow.workflow).failure_free
    assert (len(history), RunHistory(history).transitions) == (budget.events, budget.transitions)
    assert budget.transitions == 2 + 1 + 1 + 3 + 1  # Start, router, a, Parallel, 3 members, e


def test_the_shared_task_skips_the_member_that_failed_as_itself(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in "abde"}
    handlers["c"] = echo(calls, "c", always_fail=True)
    skip = {"strategy": "skip", "maxRetries": 1}
    _, record, _ = run(runtime_factory, group(b=skip, c=skip, d=skip), handlers)
    assert record.status == "completed"
    assert calls.count("c") == 2  # its own retry count
    skipped = record.handoff("c")
    assert (skipped.skipped, skipped.step, skipped.error) == (True, "c", "AgentError")
    assert skipped.data == {"skipped": True, "reason": "AgentError: c failed on attempt 2"}
    assert "c" not in record.output and record.output["b"] == 1 and record.output["d"] == 1
    # the backoff wait is the member's own, paired with its failure
    assert [(w.step, w.agent, w.seconds, w.after_error) for w in record.waits] == [
        ("c", "c", 2, "AgentError")
    ]
    assert record.metrics.failed_handoffs == 2


def test_every_member_failing_costs_what_the_budget_counts_as_the_worst_case(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n, fail_times=1) for n in "ae"}  # their last try succeeds
    handlers |= {n: echo(calls, n, always_fail=True) for n in "bcd"}
    skip = {"strategy": "skip", "maxRetries": 1}
    workflow, record, history = run(runtime_factory, group(b=skip, c=skip, d=skip), handlers)
    assert record.status == "completed"
    assert all(record.handoff(n).skipped for n in "bcd")
    worst = history_budget(workflow.workflow).worst
    read = RunHistory(history)
    # a mismatch names the failed attempts by step and error, short enough not to be cut
    failed = sorted(Counter(f"{f['step']}:{f['error']}" for f in read.failures).items())
    assert (len(history), read.transitions) == (worst.events, worst.transitions), failed


def test_the_shared_task_runs_each_members_own_alternative(runtime_factory):
    calls = Calls()
    handlers = {n: echo(calls, n) for n in "abcdexy"}
    handlers["b"] = echo(calls, "b", always_fail=True)
    definition = group(
        b={"strategy": "alternative", "alternative": "x", "maxRetries": 1},
        c={"strategy": "alternative", "alternative": "y", "maxRetries": 1},
        d={"strategy": "alternative", "alternative": "y", "maxRetries": 1},
    )
    workflow, record, history = run(runtime_factory, definition, handlers)
    assert record.status == "completed"
    assert calls.count("b") == 2 and calls.count("x") == 1 and calls.count("y") == 0
    [call] = calls.of("x")
    assert call["replaces"] == "b"
    alternative = record.handoff("x")
    assert (alternative.replaces, alternative.attempt) == ("b", 1)
    assert record.output["x"] == 1 and "b" not in record.output
    assert workflow.agent_names() == ["a", "b", "c", "d", "e", "x", "y"]  # all may be invoked
    worst = history_budget(workflow.workflow).worst
    assert RunHistory(history).transitions <= worst.transitions
