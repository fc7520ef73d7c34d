"""What the console shows, read from the offline deployment: executions of every tenant, one
execution's timeline and data, each state's status for the graph; values masked for display."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from baton.compiler.asl import CompiledWorkflow
from baton_agent import keys
from baton_agent.payloads import REF
from baton_service.history import error_message

MASK = "•••"
SENSITIVE_KEY = re.compile(
    r"pass(word|phrase)?|secret|token|api[-_]?key|cookie|session|credential|signature|"
    r"authori[sz]ation|private[-_]?key",
    re.IGNORECASE,
)
"""Field names whose values the console never shows (a session reference, a secret's name)."""
STASH_PREFIX = "stash:"
STATUSES = ("pending", "running", "paused", "completed", "failed", "cancelled")


def masked(value: Any, key: str | None = None) -> Any:
    """`value` fit to show: fields with sensitive names and stash references masked, a value
    kept in S3 named by its size."""
    if key is not None and SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, Mapping):
        if isinstance(value.get(REF), str):
            return f"(kept in S3: {value.get('bytes', '?'):,} bytes)"
        return {str(k): masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str) and value.startswith(STASH_PREFIX):
        return STASH_PREFIX + MASK
    return value


def all_executions(client: Any, table: str) -> list[dict[str, Any]]:
    """Every tenant's execution records (the operator's view, local only), newest first."""
    from baton_service.store import record_from_item

    found = [
        record_from_item(item)
        for page in client.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="sk = :record",
            ExpressionAttributeValues={":record": {"S": keys.RECORD}},
        )
        for item in page.get("Items", [])
    ]
    found.sort(key=lambda r: str(r.get("startTime") or ""), reverse=True)
    return found


def matching(
    records: Sequence[Mapping[str, Any]], filters: Mapping[str, str], limit: int = 200
) -> list[Mapping[str, Any]]:
    """The records of the `workflow`, `tenant` and `status` the filters give (an empty or absent
    one: any), at most `limit`."""
    wanted = {
        "workflowId": filters.get("workflow", ""),
        "tenant": filters.get("tenant", ""),
        "status": filters.get("status", ""),
    }
    return [
        record
        for record in records
        if all(not value or record.get(key) == value for key, value in wanted.items())
    ][:limit]


@dataclass
class TimelineEntry:
    """One row of an execution's timeline: an attempt that failed, a backoff wait, or the
    attempt that succeeded (or the step skipped)."""

    kind: str  # "failed", "wait", "succeeded", "skipped"
    step: str
    agent: str | None = None
    attempt: int | None = None
    at: str | None = None
    duration_ms: float | None = None
    accuracy: float | None = None
    cached: bool = False
    error: str | None = None
    message: str | None = None
    seconds: float | None = None
    run: int = 1


def timeline(
    handoffs: Sequence[Mapping[str, Any]],
    failures: Sequence[Mapping[str, Any]],
    waits: Sequence[tuple[str, float]],
    run: int = 1,
) -> list[TimelineEntry]:
    """A run's attempts in time order, each backoff wait right after the failure it followed
    (the k-th wait of a state follows its k-th failure)."""
    entries: list[tuple[float, int, TimelineEntry]] = []
    attempts: dict[str, int] = {}
    for order, failure in enumerate(failures):
        step = str(failure.get("step"))
        attempts[step] = attempts.get(step, 0) + 1
        entry = TimelineEntry(
            "failed",
            step,
            failure.get("agent"),
            attempts[step],
            at=failure.get("timestamp"),
            error=failure.get("error"),
            message=failure.get("message"),
            run=run,
        )
        entries.append((moment(failure.get("timestamp")), order, entry))
    for order, handoff in enumerate(handoffs):
        skipped = bool(handoff.get("skipped"))
        entry = TimelineEntry(
            "skipped" if skipped else "succeeded",
            str(handoff.get("step")),
            handoff.get("agent"),
            handoff.get("attempt"),
            at=handoff.get("startedAt") or handoff.get("finishedAt"),
            duration_ms=handoff.get("durationMs"),
            accuracy=None if skipped else handoff.get("accuracy"),
            cached=bool(handoff.get("cached")),
            error=handoff.get("error"),
            message=error_message(handoff.get("cause")) if skipped else None,
            run=run,
        )
        entries.append((moment(entry.at), len(failures) + order, entry))
    entries.sort(key=lambda e: (e[0], e[1]))
    ordered = [entry for _, _, entry in entries]
    seen: dict[str, int] = {}
    for state, seconds in waits:
        k = seen.get(state, 0)
        seen[state] = k + 1
        failed = [i for i, e in enumerate(ordered) if e.kind == "failed" and e.step == state]
        wait = TimelineEntry("wait", state, seconds=seconds, run=run)
        position = failed[k] + 1 if k < len(failed) else len(ordered)
        ordered.insert(position, wait)
    return ordered


def moment(value: Any) -> float:
    """Epoch seconds of a timestamp as histories and handoffs write them (ISO-8601 with `T`
    or a space, `Z` or an offset); unknown ones sort last."""
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return float("inf")


def clock_time(value: Any) -> str:
    """`21:05:40.976` (UTC) of a timestamp, for a timeline within one run."""
    at = moment(value)
    if at == float("inf"):
        return str(value or "")
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]


def data_after_each_step(
    start: Mapping[str, Any], handoffs: Sequence[Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """The workflow data after each handoff, as later steps saw it (masked)."""
    data = dict(start)
    steps = []
    for handoff in handoffs:
        if not handoff.get("skipped"):
            data = {**data, **(handoff.get("data") or {})}
        steps.append((str(handoff.get("step")), masked(data)))
    return steps


def state_statuses(compiled: CompiledWorkflow, record: Mapping[str, Any]) -> dict[str, str]:
    """State name → done, skipped, failed or running (states not reached are left out)."""
    handoffs = record.get("handoffs") or []
    done = {(h.get("agent"), h.get("replaces")) for h in handoffs if not h.get("skipped")}
    done_agents = {agent for agent, _ in done}
    skipped = {h.get("agent") for h in handoffs if h.get("skipped")}
    error = record.get("error") or {}
    replaced = {agent for agent, replaces in done if replaces}
    statuses: dict[str, str] = {}
    for state, info in compiled.states.items():
        agents = [a for a in (info.members or (info.agent,)) if a]
        if info.kind == "skip":
            if any(a in skipped for a in agents) or (not agents and skipped):
                statuses[state] = "skipped"
            continue
        finished = replaced if info.kind == "alternative" else done_agents
        if agents and all(a in finished for a in agents):
            statuses[state] = "done"
        elif any(a in skipped for a in agents):
            statuses[state] = "skipped"
        elif error.get("agentName") in agents and info.kind != "alternative":
            statuses[state] = "failed"
    status = record.get("status")
    current = record.get("currentStep")
    if status in ("running", "pending") and current and current not in statuses:
        statuses[current] = "running"
    if status == "completed":
        statuses.update({s: "done" for s in compiled.asl["States"] if s == "Completed"})
    if status == "failed" and not any(v == "failed" for v in statuses.values()):
        step = error.get("step")
        if step in compiled.states:
            statuses[step] = "failed"
    return statuses
