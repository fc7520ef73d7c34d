"""Faults of the services around the agents: each run ends as it should, and nothing is lost
or written twice (handoffs, checkpoints, agent calls)."""

from __future__ import annotations

import pytest

from baton_agent import AgentResult, agent
from baton_agent.records import DynamoExecutionLog
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

NAMES = ("a", "b", "c")
REGISTRY = make_registry(*NAMES)
THREE = {"id": "three", "name": "Three", "agents": list(NAMES)}


def steps_of(record: dict) -> list[tuple[str, int]]:
    return [(h["agent"], h["attempt"]) for h in record["handoffs"]]


@pytest.mark.parametrize(
    ("fault", "times"), [("ServiceException", 2), ("TooManyRequestsException", 2)]
)
def test_lambda_service_faults_are_retried_and_the_run_completes_once(
    runtime_factory, fault, times
):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    runtime.inject_lambda_fault("b", fault, times=times)
    record = runtime.execute(compiled(THREE, REGISTRY))
    assert record["status"] == "completed", record.get("error")
    assert calls.agents() == ["a", "b", "c"]  # a fault happens before the function runs
    assert steps_of(record) == [("a", 1), ("b", times + 1), ("c", 1)]
    failed = [
        e["taskFailedEventDetails"]["error"]
        for e in runtime.history(record["currentRun"])
        if e["type"] == "TaskFailed"
    ]
    assert failed == [f"Lambda.{fault}"] * times
    assert record["metrics"]["failedHandoffs"] == times


class CrashingLog(DynamoExecutionLog):
    """The step log of a container that dies between the agent's work and its record (once)."""

    crashed = False

    def step_finished(self, record):
        if not CrashingLog.crashed and record.handoff["step"] == "b":
            CrashingLog.crashed = True
            raise ConnectionError("the container died before the step was recorded")
        super().step_finished(record)


def test_a_crash_between_the_agent_and_its_record_neither_loses_nor_duplicates(runtime_factory):
    """The handoff and the checkpoint are one transaction: a crash before it leaves neither,
    the retry writes both once; the checkpoint follows the steps that were recorded."""
    import boto3

    from baton_agent.settings import get_settings

    def crashing_log():
        return CrashingLog(get_settings().executions_table, boto3.client("dynamodb"))

    calls = Calls()

    @agent(log=crashing_log)
    def b(data, context):
        calls.add(agent="b", attempt=context.attempt)
        return AgentResult(data={"b": context.attempt})

    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a"), "b": b, "c": echo(calls, "c")})
    record = runtime.execute(compiled(THREE, REGISTRY))
    assert record["status"] == "completed", record.get("error")
    assert steps_of(record) == [("a", 1), ("b", 2), ("c", 1)]  # one handoff of b, not two
    assert record["output"]["b"] == 2 and calls.count("b") == 2
    assert record["checkpoint"]["after"] == "c"
