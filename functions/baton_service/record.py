"""The one execution record model: what is stored, archived, served by the API and shown by the CLI.

Field names are the stored (camelCase) ones; attributes are their snake_case spelling. Unknown
stored fields are kept (`extra="allow"`), and `to_json` dumps only what was set, so a record read
from the table and dumped again is the same record: nothing is renamed, defaulted or dropped.
A handoff read from a run's history (baton_service.history) has the very shape of the stored one:
both are the agent runtime's `meta` plus `accuracy` and `data` (or, for a skipped step, the item
the state machine wrote).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from baton_service.history import error_message

Status = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]


class RecordModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_json(self) -> dict[str, Any]:
        """The stored form: camelCase names, only the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Handoff(RecordModel):
    """One agent's contribution to the workflow data, and how it got there."""

    step: str
    agent: str
    attempt: int | None = None
    """The attempt that succeeded (None for a skipped step)."""
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: float = 0
    accuracy: float = 0
    validated_by: list[str] = Field(default_factory=list)
    cached: bool = False
    skipped: bool = False
    replaces: str | None = None
    run: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    """Why a skipped step was skipped (the error its last attempt raised), with `cause`."""
    cause: str | None = None
    from_agent: str | None = None
    to_agent: str | None = None
    """The agent whose handoff follows this one (None for the last)."""


def linked(handoffs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Handoffs in order, each naming the agent it came from and the one that took it on; a
    skipped step's handoff carries `{skipped: true, reason}` as its data (the state machine
    stores its error and cause)."""
    out = [dict(h) for h in handoffs]
    for index, current in enumerate(out):
        if current.get("skipped") and not current.get("data"):
            reason = f"{current.get('error') or 'failed'}: {error_message(current.get('cause'))}"
            current["data"] = {"skipped": True, "reason": reason.rstrip(": ")}
        current["fromAgent"] = current.get("agent")
        current["toAgent"] = out[index + 1].get("agent") if index + 1 < len(out) else None
    return out


class ExecutionError(RecordModel):
    message: str
    error_type: str
    agent_name: str | None = None
    step: str | None = None
    timestamp: str | None = None
    retry_count: int = 0


class Metrics(RecordModel):
    total_execution_time: float = 0
    """Milliseconds from the run's start to its end."""
    average_agent_time: float = 0
    successful_handoffs: int = 0
    failed_handoffs: int = 0
    """Agent attempts that failed (each retry's failure counts), as the history shows them."""
    state_transitions: int | None = 0
    """As Step Functions bills them: every state entered, and every retry of a Task. None when
    not known: the run was settled while its history could not be read (throttled), from what
    its agents recorded."""


class ExecutionRecord(RecordModel):
    """An execution: every run of it, and where it stands."""

    execution_id: str
    workflow_id: str
    workflow_name: str | None = None
    tenant: str = "default"
    status: Status
    start_time: str | None = None
    end_time: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] | None = None
    error: ExecutionError | None = None
    metrics: Metrics | None = None
    runs: list[str] = Field(default_factory=list)
    current_run: str | None = None
    recoveries: int = 0
    handoffs: list[Handoff] = Field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    current_step: str | None = None
