"""The compiler's history-event estimate matches what an execution records, and limits hold."""

from __future__ import annotations

import pytest

from baton.compiler.asl import compile_workflow
from baton.compiler.limits import expected_history_events
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import load_workflow, workflow_files
from tests.conftest import STATEMACHINES, make_registry, resolve
from tests.functional.agents import Calls, echo


@pytest.mark.parametrize("path", workflow_files(STATEMACHINES), ids=lambda p: p.name)
def test_estimate_equals_the_history_of_an_execution_without_failures(
    path, shipped_registry, runtime_factory
):
    workflow = load_workflow(path, shipped_registry)
    calls = Calls()
    runtime = runtime_factory(
        shipped_registry, {a.name: echo(calls, a.name) for a in shipped_registry}
    )
    record = runtime.run(compile_workflow(workflow))
    assert record.status == "completed"
    assert record.metrics.failed_handoffs == 0
    assert len(runtime.history(record.execution_arn)) == expected_history_events(workflow)


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
    assert any(
        "history events even when nothing fails; Step Functions stops at 25,000" in m
        for m in messages
    )


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
