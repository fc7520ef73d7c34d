"""The execution record, read back from a Step Functions execution's history.

The history is the source of truth offline and in the cloud alike: every attempt of every agent
is a TaskScheduled event (its parameters name the step and agent), every success a TaskSucceeded
event carrying the agent's `{data, accuracy, meta}`, every failure a TaskFailed event. Skipped
steps are their `Skip …` Pass state being entered.
"""

from __future__ import annotations

import json
from datetime import datetime
from statistics import fmean
from typing import Any, Literal

from pydantic import BaseModel, Field

from baton.compiler.asl import CompiledWorkflow
from baton.local import FUNCTIONS_DIR  # noqa: F401 - puts the Lambda code on the import path
from baton_service.history import details, error_message, scheduled_payload

Status = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
SFN_STATUS: dict[str, Status] = {
    "RUNNING": "running",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "TIMED_OUT": "failed",
    "ABORTED": "cancelled",
    "PENDING_REDRIVE": "failed",
}


class Handoff(BaseModel):
    """One agent's contribution: the data it handed on, and how it got there."""

    step: str
    agent: str
    agent_id: int = Field(serialization_alias="agentId")
    from_agent: int = Field(serialization_alias="fromAgent")
    to_agent: int = Field(-1, serialization_alias="toAgent")
    timestamp: str
    started_at: str | None = Field(None, serialization_alias="startedAt")
    finished_at: str | None = Field(None, serialization_alias="finishedAt")
    attempts: int
    duration_ms: float = Field(0, serialization_alias="executionTime")
    accuracy: float
    validated_by: list[str] = Field(serialization_alias="validatedBy")
    cached: bool = False
    skipped: bool = False
    replaces: str | None = None
    data: dict[str, Any]


class ExecutionError(BaseModel):
    message: str
    error_type: str = Field(serialization_alias="errorType")
    agent_id: int | None = Field(None, serialization_alias="agentId")
    agent_name: str | None = Field(None, serialization_alias="agentName")
    step: str | None = None
    timestamp: str
    retry_count: int = Field(0, serialization_alias="retryCount")


class Metrics(BaseModel):
    total_execution_time: float = Field(serialization_alias="totalExecutionTime")
    average_agent_time: float = Field(serialization_alias="averageAgentTime")
    successful_handoffs: int = Field(serialization_alias="successfulHandoffs")
    failed_handoffs: int = Field(serialization_alias="failedHandoffs")
    state_transitions: int = Field(serialization_alias="stateTransitions")


class BackoffWait(BaseModel):
    step: str
    agent: str | None
    seconds: float
    after_error: str | None = Field(None, serialization_alias="afterError")


class ExecutionRecord(BaseModel):
    """Everything a person or a program needs to know about one execution."""

    execution_id: str = Field(serialization_alias="executionId")
    execution_arn: str = Field(serialization_alias="executionArn")
    workflow_id: str = Field(serialization_alias="workflowId")
    workflow_name: str = Field(serialization_alias="workflowName")
    status: Status
    sfn_status: str = Field(serialization_alias="sfnStatus")
    start_time: str = Field(serialization_alias="startTime")
    end_time: str | None = Field(None, serialization_alias="endTime")
    handoffs: list[Handoff]
    workflow_data: dict[str, Any] = Field(serialization_alias="workflowData")
    error: ExecutionError | None = None
    metrics: Metrics
    waits: list[BackoffWait]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def handoff(self, agent: str) -> Handoff:
        """The (last) handoff of `agent`; KeyError when it has none."""
        for handoff in reversed(self.handoffs):
            if handoff.agent == agent:
                return handoff
        raise KeyError(agent)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


class _Reader:
    def __init__(self, compiled: CompiledWorkflow, events: list[dict[str, Any]]) -> None:
        self.compiled = compiled
        self.events = events
        self.by_id = {e["id"]: e for e in events}
        self.registry = compiled.workflow.registry
        self.attempts: dict[str, int] = {}
        self.failures: list[tuple[str, str, str, dict[str, Any], datetime]] = []
        self.running: dict[str, str] = {}
        self.handoffs: list[Handoff] = []

    def is_agent_task(self, event: dict[str, Any]) -> bool:
        """True for the Task* events of a Lambda invocation (TaskStateEntered has no resource)."""
        if event["type"] in ("TaskStateEntered", "TaskStateExited"):
            return True
        return bool(scheduled_payload(event, self.by_id))

    def scheduled_step(self, event: dict[str, Any]) -> tuple[str, str]:
        """(step, agent) of the agent invocation an event belongs to."""
        payload = scheduled_payload(event, self.by_id)
        agent = str(payload.get("agent", ""))
        return str(payload.get("step", agent)), agent

    def read(self) -> None:
        for event in self.events:
            kind = event["type"]
            if kind.startswith("Task") and not self.is_agent_task(event):
                continue  # Baton's own bookkeeping (a skipped step's DynamoDB write)
            if kind == "TaskScheduled":
                step, agent = self.scheduled_step(event)
                self.attempts[step] = self.attempts.get(step, 0) + 1
                self.running[step] = agent
            elif kind == "TaskSucceeded":
                self.succeeded(event)
            elif kind in ("TaskFailed", "TaskTimedOut"):
                step, agent = self.scheduled_step(event)
                info = details(event)
                message = error_message(info.get("cause"))
                error = info.get("error", "States.Timeout" if kind == "TaskTimedOut" else "")
                self.failures.append((step, agent, error, {"message": message}, event["timestamp"]))
                self.running.pop(step, None)
            elif kind == "TaskStateEntered":
                self.maybe_skipped(event)

    def succeeded(self, event: dict[str, Any]) -> None:
        output = json.loads(details(event).get("output") or "{}")
        payload = output.get("Payload", {}) if isinstance(output, dict) else {}
        meta = payload.get("meta", {})
        step, agent = self.scheduled_step(event)
        self.running.pop(step, None)
        self.add_handoff(
            meta.get("agent") or agent,
            step,
            event,
            started_at=meta.get("startedAt"),
            finished_at=meta.get("finishedAt"),
            duration_ms=float(meta.get("durationMs", 0)),
            accuracy=float(payload.get("accuracy", 100)),
            validated_by=list(meta.get("validatedBy", ["accuracy-check"])),
            cached=bool(meta.get("cached", False)),
            replaces=meta.get("replaces"),
            data=payload.get("data") or {},
        )

    def add_handoff(self, agent: str, step: str, event: dict[str, Any], **fields: Any) -> None:
        spec = self.registry.get(agent)
        self.handoffs.append(
            Handoff(
                step=step,
                agent=spec.name,
                agent_id=spec.id,
                from_agent=spec.id,
                timestamp=_iso(event["timestamp"]),
                attempts=self.attempts.get(step, 1),
                **fields,
            )
        )

    def maybe_skipped(self, event: dict[str, Any]) -> None:
        name = details(event).get("name", "")
        info = self.compiled.states.get(name)
        if info is None or info.kind != "skip" or info.agent is None:
            return
        reason = next(
            (
                f"{err}: {detail['message']}"
                for step, agent, err, detail, _ in reversed(self.failures)
                if agent == info.agent
            ),
            "failed",
        )
        step = next(
            (
                s
                for s, i in self.compiled.states.items()
                if i.kind == "task" and i.agent == info.agent
            ),
            name,
        )
        self.add_handoff(
            info.agent,
            step,
            event,
            accuracy=0,
            validated_by=["fallback-skip"],
            skipped=True,
            data={"skipped": True, "reason": reason},
        )

    def link_handoffs(self) -> None:
        for current, following in zip(self.handoffs, self.handoffs[1:], strict=False):
            current.to_agent = following.agent_id


def read_execution(
    compiled: CompiledWorkflow,
    description: dict[str, Any],
    events: list[dict[str, Any]],
    waits: list[tuple[str, float]] | None = None,
) -> ExecutionRecord:
    """Build the record from DescribeExecution and GetExecutionHistory responses."""
    reader = _Reader(compiled, events)
    reader.read()
    reader.link_handoffs()
    sfn_status = description["status"]
    start, stop = description["startDate"], description.get("stopDate")
    output = json.loads(description.get("output") or "null")
    data = output.get("data", {}) if isinstance(output, dict) else {}
    if not data:
        data = _last_data(events)
    error = _error(reader, sfn_status, description, events, compiled)
    successful = [h for h in reader.handoffs if not h.skipped]
    record_waits = _waits(compiled, reader, waits or [])
    return ExecutionRecord(
        execution_id=description["name"],
        execution_arn=description["executionArn"],
        workflow_id=compiled.workflow.id,
        workflow_name=compiled.workflow.name,
        status=SFN_STATUS.get(sfn_status, "failed"),
        sfn_status=sfn_status,
        start_time=_iso(start),
        end_time=_iso(stop) if stop else None,
        handoffs=reader.handoffs,
        workflow_data=data,
        error=error,
        metrics=Metrics(
            total_execution_time=((stop or start) - start).total_seconds() * 1000,
            average_agent_time=fmean(h.duration_ms for h in successful) if successful else 0,
            successful_handoffs=len(successful),
            failed_handoffs=len(reader.failures),
            state_transitions=sum(1 for e in events if e["type"].endswith("StateEntered")),
        ),
        waits=record_waits,
    )


def _waits(
    compiled: CompiledWorkflow, reader: _Reader, waits: list[tuple[str, float]]
) -> list[BackoffWait]:
    """Each wait, paired with the failure that caused it (the k-th wait of a state follows its
    k-th failure)."""
    seen: dict[str, int] = {}
    out = []
    for state, seconds in waits:
        k = seen.get(state, 0)
        seen[state] = k + 1
        failures = [f[2] for f in reader.failures if f[0] == state]
        info = compiled.states.get(state)
        out.append(
            BackoffWait(
                step=state,
                agent=info.agent if info else None,
                seconds=seconds,
                after_error=failures[k] if k < len(failures) else None,
            )
        )
    return out


def _last_data(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The workflow data as last assigned (for executions that did not complete)."""
    for event in reversed(events):
        assigned = details(event).get("assignedVariables", {})
        if "data" in assigned:
            value = json.loads(assigned["data"])
            return value if isinstance(value, dict) else {}
    return {}


def _error(
    reader: _Reader,
    sfn_status: str,
    description: dict[str, Any],
    events: list[dict[str, Any]],
    compiled: CompiledWorkflow,
) -> ExecutionError | None:
    if sfn_status in ("SUCCEEDED", "RUNNING"):
        return None
    end = description.get("stopDate") or description["startDate"]
    if sfn_status == "TIMED_OUT":
        step, agent = next(iter(reader.running.items()), ("", ""))
        spec = compiled.workflow.registry.find(agent) if agent else None
        return ExecutionError(
            message=f"workflow timed out after {compiled.workflow.timeout_seconds}s"
            + (f" while {agent} was running" if agent else ""),
            error_type="States.Timeout",
            agent_id=spec.id if spec else None,
            agent_name=spec.name if spec else None,
            step=step or None,
            timestamp=_iso(end),
            retry_count=max(0, reader.attempts.get(step, 1) - 1) if step else 0,
        )
    if sfn_status == "ABORTED":
        return ExecutionError(
            message="execution was stopped", error_type="States.Aborted", timestamp=_iso(end)
        )
    message = error_message(description.get("cause"))
    error_type = description.get("error") or "States.Runtime"
    if reader.failures:
        step, agent, err, detail, when = reader.failures[-1]
        spec = compiled.workflow.registry.find(agent)
        return ExecutionError(
            message=detail.get("message") or message,
            error_type=err or error_type,
            agent_id=spec.id if spec else None,
            agent_name=spec.name if spec else None,
            step=step,
            timestamp=_iso(when),
            retry_count=max(0, reader.attempts.get(step, 1) - 1),
        )
    return ExecutionError(message=message or error_type, error_type=error_type, timestamp=_iso(end))
