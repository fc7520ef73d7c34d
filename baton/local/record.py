"""The record of one offline Step Functions run, read from its history.

It is the execution record model (baton_service.record) that the lifecycle stores and the events
handler writes, read by the same history reader (baton_service.history.RunHistory); the offline
runtime adds only what it alone observes: the backoff waits it recorded (`waits`, which AWS does
not put in a history) and the run's Step Functions status.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import Field

from baton.compiler.asl import CompiledWorkflow
from baton.local import FUNCTIONS_DIR  # noqa: F401 - puts the Lambda code on the import path
from baton_service.history import RunHistory
from baton_service.record import ExecutionRecord, Handoff, RecordModel, Status, linked

SFN_STATUS: dict[str, Status] = {
    "RUNNING": "running",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "TIMED_OUT": "failed",
    "ABORTED": "cancelled",
    "PENDING_REDRIVE": "failed",
}


class BackoffWait(RecordModel):
    step: str
    agent: str | None = None
    seconds: float
    after_error: str | None = None


class RunRecord(ExecutionRecord):
    """One run as the execution record model describes it, plus what only offline observes."""

    sfn_status: str
    waits: list[BackoffWait] = Field(default_factory=list)

    def handoff(self, agent: str) -> Handoff:
        """The (last) handoff of `agent`; KeyError when it has none."""
        for handoff in reversed(self.handoffs):
            if handoff.agent == agent:
                return handoff
        raise KeyError(agent)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def read_execution(
    compiled: CompiledWorkflow,
    description: dict[str, Any],
    events: list[dict[str, Any]],
    waits: list[tuple[str, float]] | None = None,
) -> RunRecord:
    """Build the record from DescribeExecution and GetExecutionHistory responses."""
    history = RunHistory(events)
    sfn_status = description["status"]
    start, stop = description["startDate"], description.get("stopDate")
    output = json.loads(description.get("output") or "null")
    data = output.get("data") if isinstance(output, dict) else None
    run = description["executionArn"]
    return RunRecord.model_validate(
        {
            "executionId": description["name"],
            "workflowId": compiled.workflow.id,
            "workflowName": compiled.workflow.name,
            "status": SFN_STATUS.get(sfn_status, "failed"),
            "sfnStatus": sfn_status,
            "startTime": _iso(start),
            "endTime": _iso(stop) if stop else None,
            "output": data if isinstance(data, dict) else history.last_data(),
            "error": history.error(
                sfn_status,
                ended_at=_iso(stop or start),
                error=description.get("error"),
                cause=description.get("cause"),
                timeout_seconds=compiled.workflow.timeout_seconds,
            ),
            "metrics": history.metrics(((stop or start) - start).total_seconds() * 1000),
            "runs": [run],
            "currentRun": run,
            "handoffs": linked(history.handoffs),
            "waits": _waits(compiled, history, waits or []),
        }
    )


def _waits(
    compiled: CompiledWorkflow, history: RunHistory, waits: list[tuple[str, float]]
) -> list[dict[str, Any]]:
    """Each wait, paired with the failure that caused it (the k-th wait of a state follows its
    k-th failure)."""
    seen: dict[str, int] = {}
    out = []
    for state, seconds in waits:
        k = seen.get(state, 0)
        seen[state] = k + 1
        failures = [f["error"] for f in history.failures if f["step"] == state]
        info = compiled.states.get(state)
        out.append(
            {
                "step": state,
                "agent": info.agent if info else None,
                "seconds": seconds,
                "afterError": failures[k] if k < len(failures) else None,
            }
        )
    return out
