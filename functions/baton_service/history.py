"""Reading a Step Functions execution history: which agent task failed, after how many tries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def details(event: Mapping[str, Any]) -> dict[str, Any]:
    return next((dict(v) for k, v in event.items() if k.endswith("EventDetails")), {})


def error_message(cause: str | None) -> str:
    """The message of a failure's cause (a Lambda error payload as JSON, or plain text)."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else cause


def scheduled_payload(
    event: Mapping[str, Any], by_id: Mapping[int, Mapping[str, Any]]
) -> dict[str, Any]:
    """The Lambda payload of the TaskScheduled event an event belongs to ({} for other tasks)."""
    current: Mapping[str, Any] | None = event
    while current is not None and current["type"] != "TaskScheduled":
        current = by_id.get(current.get("previousEventId", 0))
    if current is None or details(current).get("resourceType") != "lambda":
        return {}
    payload = json.loads(details(current)["parameters"]).get("Payload", {})
    return payload if isinstance(payload, dict) else {}


def last_failure(events: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The last failed agent attempt: {agent, step, error, message, timestamp, attempts}."""
    events = list(events)
    by_id = {e["id"]: e for e in events}
    attempts: dict[str, int] = {}
    failure: dict[str, Any] | None = None
    for event in events:
        if event["type"] not in ("TaskScheduled", "TaskFailed", "TaskTimedOut"):
            continue
        payload = scheduled_payload(event, by_id)
        if not payload:
            continue
        step = str(payload.get("step", payload.get("agent", "")))
        if event["type"] == "TaskScheduled":
            attempts[step] = attempts.get(step, 0) + 1
            continue
        info = details(event)
        failure = {
            "agent": payload.get("agent"),
            "step": step,
            "error": info.get("error", "States.Timeout"),
            "message": error_message(info.get("cause")),
            "timestamp": event["timestamp"],
        }
    if failure is not None:
        failure["attempts"] = attempts.get(failure["step"], 1)
    return failure


def running_step(events: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The agent task that was still running when the execution ended (for timeouts)."""
    events = list(events)
    by_id = {e["id"]: e for e in events}
    open_tasks: dict[int, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "TaskScheduled":
            payload = scheduled_payload(event, by_id)
            if payload:
                open_tasks[event["id"]] = payload
        elif event["type"] in ("TaskSucceeded", "TaskFailed", "TaskTimedOut"):
            current: Mapping[str, Any] | None = event
            while current is not None and current["type"] != "TaskScheduled":
                current = by_id.get(current.get("previousEventId", 0))
            if current is not None:
                open_tasks.pop(current["id"], None)
    return next(iter(open_tasks.values()), None)
