"""JSONata fidelity: every expression the compiler emits, for the shipped workflows and for test
workflows with arithmetic and text conditions, evaluated offline (jsonata-python, as the offline
runtime evaluates it) and by the reference JSONata (npm `jsonata`, run with node) on the same
data and variables: the results must be equal."""

from __future__ import annotations

import json
import math
import subprocess
from typing import Any

import pytest

from baton.compiler.asl import compile_workflow
from baton.compiler.checks import inner_scopes
from baton.definition.expressions import on_data
from baton.definition.loader import load_workflow, workflow_files
from tests.conftest import ROOT, compiled, make_registry
from tests.hostile import hostile_workflow

REFERENCE = ROOT / "tests" / "infra" / "jsonata_reference.js"
NOW = "'2026-11-26T08:00:00.000Z'"
MILLIS = "1795680000000"

CONDITIONS = [
    "(lastKnownPrice - currentPrice) / lastKnownPrice > 0.1",
    "currentPrice % 2 > 0.4",
    "$contains(status, 'ok') and $count(items) > 1",
    "$exists(missing) or total >= 100",
    "$sum(items.price) / $count(items) < 20",
    "status = 'ok' ? total > 10 : false",
]
DATA_VARIANTS: list[dict[str, Any]] = [
    {
        "lastKnownPrice": 99.99,
        "currentPrice": 84.99,
        "status": "ok",
        "total": 120,
        "items": [{"price": 10.5}, {"price": 30}],
    },
    {
        "lastKnownPrice": 0,
        "currentPrice": 12.5,
        "status": "late",
        "total": 3,
        "items": [{"price": 1}],
    },
    {"lastKnownPrice": 0, "currentPrice": 0, "status": "ok", "total": 0, "items": []},
    {},
]


def workflows():
    from baton.definition.loader import load_registry

    registry = load_registry()
    yield from (compile_workflow(load_workflow(p, registry)) for p in workflow_files())
    yield hostile_workflow()[1]
    names = ("a", "b", "c", "d")
    test_registry = make_registry(*names, b={"cache": {"ttl": "5m", "key": ["items"]}})
    for index, when in enumerate(CONDITIONS):
        yield compiled(
            {
                "id": f"cond-{index}",
                "name": f"Condition {index}",
                "agents": list(names),
                "initialData": {"status": "new"},
                "config": {"parallelGroups": [["c", "d"]]},
                "conditions": [{"after": "a", "when": when, "then": ["b"]}],
                "fallbacks": {
                    "c": {"strategy": "skip"},
                    "d": {"strategy": "alternative", "alternative": "b"},
                },
            },
            test_registry,
        )


def expressions(states: dict[str, Any], where: str = ""):
    """(location, state type, expression) for every {% %} string of a scope, its Maps and its
    Parallels' branches."""

    def strings(node: Any):
        if isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str) and node.startswith("{%"):
            yield node[2:-2].strip()

    for name, state in states.items():
        body = {k: v for k, v in state.items() if k not in ("ItemProcessor", "Branches")}
        for expression in strings(body):
            yield f"{where}{name}", state["Type"], expression
        for inner in inner_scopes(state):
            yield from expressions(inner["States"], f"{where}{name} › ")


def bindings(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """Step Functions' variables where an expression runs: $states, and the assigned ones."""
    result: Any = [{"p": 1}, {"q": 2}] if kind == "Map" else {"Payload": {"data": {"r": 3}}}
    return {
        "data": data,
        "ctx": {
            "executionId": "exec_1",
            "run": "arn:run",
            "workflowId": "w",
            "tenant": "acme",
            "noCache": False,
            "expiresAt": 1795680000,
        },
        "states": {
            "input": {
                "data": data,
                "tenant": "acme",
                "executionId": "exec_1",
                "resume": {"after": "a", "data": data},
                "agent": "c",
                "Error": "AgentError",
                "Cause": "boom",
            },
            "result": result,
            "context": {
                "Execution": {
                    "Id": "arn:aws:states:us-east-1:1:execution:m:exec_1-1",
                    "Name": "exec_1-1",
                    "StartTime": "2026-11-26T08:00:00.000Z",
                },
                "State": {"Name": "a", "RetryCount": 1, "EnteredTime": "2026-11-26T08:00:00Z"},
            },
        },
    }


def cases() -> list[dict[str, Any]]:
    found = []
    for workflow in workflows():
        for where, kind, expression in expressions(workflow.asl["States"]):
            text = expression.replace("$now()", NOW).replace("$millis()", MILLIS)
            for index, data in enumerate(DATA_VARIANTS):
                merged = {**workflow.workflow.initial_data, **data}
                found.append(
                    {
                        "where": f"{workflow.workflow.id}: {where} (data {index})",
                        "expression": text,
                        "bindings": bindings(merged, kind),
                    }
                )
    return found


def plain(value: Any) -> Any:
    """A result as JSON gives it (JavaScript's JSON turns ±Infinity and NaN into null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def offline(expression: str, variables: dict[str, Any]) -> dict[str, Any]:
    from baton.local.seams import evaluate

    try:
        value = evaluate(expression, variables)
    except Exception as err:  # compared with the reference's error below
        return {"error": getattr(err, "error", type(err).__name__)}
    return {"value": plain(value), "undefined": value is None}


@pytest.fixture(scope="module")
def reference_results():
    all_cases = cases()
    result = subprocess.run(
        ["node", str(REFERENCE)],
        input=json.dumps([{k: c[k] for k in ("expression", "bindings")} for c in all_cases]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=ROOT,
    )
    return all_cases, json.loads(result.stdout)


def test_every_emitted_expression_evaluates_as_the_reference_jsonata(
    runtime_factory, reference_results
):
    runtime_factory(make_registry("a"))  # the offline runtime's JSONata seams, as in a run
    all_cases, reference = reference_results
    assert len(all_cases) > 500
    differences = []
    for case, expected in zip(all_cases, reference, strict=True):
        got = offline(case["expression"], case["bindings"])
        if "error" in expected or "error" in got:
            same = ("error" in expected) == ("error" in got)
        else:
            same = got["value"] == expected["value"] and got["undefined"] == expected["undefined"]
        if not same:
            differences.append(f"{case['where']}: {case['expression'][:120]}: {got} != {expected}")
    assert differences == [], "\n".join(differences[:20])


def test_division_by_zero_and_remainders_compute_as_in_aws(runtime_factory):
    """(last - current) / last with last = 0 is -Infinity in JavaScript (AWS's JSONata), so the
    alert condition is false and the Default branch runs; jsonata-python raised
    ZeroDivisionError, failing the run offline. `%` kept only the integer part."""
    runtime_factory(make_registry("a"))
    alert = on_data("(lastKnownPrice - currentPrice) / lastKnownPrice > 0.1")
    assert offline(alert, {"data": {"lastKnownPrice": 0, "currentPrice": 5}})["value"] is False
    assert offline(alert, {"data": {"lastKnownPrice": 0, "currentPrice": -5}})["value"] is True
    assert offline(alert, {"data": {"lastKnownPrice": 0, "currentPrice": 0}})["value"] is False
    assert offline("5.5 % 2", {})["value"] == 1.5
    assert offline("-7 % 3", {})["value"] == -1
    assert offline("4 % 0 = 4 % 0", {})["value"] is False  # NaN
