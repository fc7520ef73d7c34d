"""The handler wrapper: parse the invocation, run the agent, apply the accuracy gate, describe it.

The invocation payload is what the compiled state machine sends:
`{agent, step, attempt, requiredAccuracy, data, context, [replaces, failure]}`.
The response is `{data, accuracy, meta}`; `meta` records the handoff (agent, step, attempt,
start and end time, duration, accuracy check).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from baton_agent.errors import AccuracyBelowThreshold, AgentInputError

logger = Logger(service="baton-agent")


@dataclass(frozen=True)
class AgentResult:
    """What an agent returns: data to merge into the workflow data, and its accuracy (0–100)."""

    data: dict[str, Any] = field(default_factory=dict)
    accuracy: float = 100.0


@dataclass(frozen=True)
class AgentContext:
    """Where an invocation stands: which agent and step, which attempt, which execution."""

    agent: str
    step: str
    attempt: int
    required_accuracy: float
    execution: Mapping[str, Any]
    replaces: str | None = None
    failure: Mapping[str, Any] | None = None

    @property
    def tenant(self) -> str:
        return str(self.execution.get("tenant", "default"))


AgentFunction = Callable[[dict[str, Any], AgentContext], AgentResult | dict[str, Any]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _context_from(event: Mapping[str, Any]) -> AgentContext:
    if not isinstance(event, Mapping) or not isinstance(event.get("data"), Mapping):
        raise AgentInputError("the invocation carries no workflow data (a 'data' object)")
    return AgentContext(
        agent=str(event.get("agent", "")),
        step=str(event.get("step", event.get("agent", ""))),
        attempt=int(event.get("attempt", 1)),
        required_accuracy=float(event.get("requiredAccuracy", 0)),
        execution=event.get("context") or {},
        replaces=event.get("replaces"),
        failure=event.get("failure"),
    )


def _as_result(value: AgentResult | dict[str, Any], agent: str) -> AgentResult:
    if isinstance(value, AgentResult):
        return value
    if isinstance(value, dict):
        return AgentResult(data=value)
    raise TypeError(f"agent {agent} returned {type(value).__name__}, not AgentResult or dict")


def agent(fn: AgentFunction) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Wrap an agent function into a Lambda handler."""

    @functools.wraps(fn)
    def handler(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
        ctx = _context_from(event)
        started_at, started = _now(), time.perf_counter()
        logger.append_keys(agent=ctx.agent, step=ctx.step, attempt=ctx.attempt)
        result = _as_result(fn(dict(event["data"]), ctx), ctx.agent)
        duration_ms = (time.perf_counter() - started) * 1000
        if result.accuracy < ctx.required_accuracy:
            logger.warning("accuracy below threshold", extra={"accuracy": result.accuracy})
            raise AccuracyBelowThreshold(ctx.agent, result.accuracy, ctx.required_accuracy)
        logger.debug("agent completed", extra={"durationMs": duration_ms})
        return {
            "data": result.data,
            "accuracy": result.accuracy,
            "meta": {
                "agent": ctx.agent,
                "step": ctx.step,
                "attempt": ctx.attempt,
                "startedAt": started_at,
                "finishedAt": _now(),
                "durationMs": round(duration_ms, 3),
                "validatedBy": ["accuracy-check"],
                "cached": False,
                "replaces": ctx.replaces,
            },
        }

    return handler
