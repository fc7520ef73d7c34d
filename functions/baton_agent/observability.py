"""Metrics and tracing for each agent invocation, kept off the cold-start path.

Metrics: one CloudWatch EMF document per invocation (Powertools' EphemeralMetrics, so
concurrent invocations in one process never share a buffer): StepDuration, StepAccuracy,
CacheHit, StepFailed, with the agent as dimension. POWERTOOLS_METRICS_DISABLED=true silences
them (the offline runtime sets it).

Tracing: Lambda's active tracing records every invocation as a segment of the execution's trace
with no code in the function. Subsegments named after the agent and step, annotated, come from
Powertools Tracer (the X-Ray SDK), whose import creates an X-Ray client and costs ~0.8 s of a
cold start (a 2x slower first invocation), so they are opt-in: BATON_TRACE_SUBSEGMENTS=true in
the function's environment, in Lambda, with POWERTOOLS_TRACE_DISABLED unset.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit


class StepMetrics:
    """Namespace and service from the environment (POWERTOOLS_METRICS_NAMESPACE and
    POWERTOOLS_SERVICE_NAME, set by the deployment manifest)."""

    def __init__(self, agent: str) -> None:
        self.metrics = EphemeralMetrics()
        self.metrics.add_dimension(name="agent", value=agent or "unknown")

    def succeeded(self, duration_ms: float, accuracy: float, *, cached: bool) -> None:
        self.metrics.add_metric(
            name="StepDuration", unit=MetricUnit.Milliseconds, value=duration_ms
        )
        self.metrics.add_metric(name="StepAccuracy", unit=MetricUnit.Percent, value=accuracy)
        self.metrics.add_metric(name="CacheHit", unit=MetricUnit.Count, value=1 if cached else 0)

    def reused(self) -> None:
        """A resumed run's group member handed on what an earlier run recorded (not run)."""
        self.metrics.add_metric(name="StepReused", unit=MetricUnit.Count, value=1)

    def failed(self) -> None:
        self.metrics.add_metric(name="StepFailed", unit=MetricUnit.Count, value=1)

    def flush(self) -> None:
        with contextlib.suppress(Exception):  # metrics must never fail a step
            self.metrics.flush_metrics()


TRACE_SUBSEGMENTS = "BATON_TRACE_SUBSEGMENTS"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true")


def _tracing_wanted() -> bool:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    return in_lambda and _flag(TRACE_SUBSEGMENTS) and not _flag("POWERTOOLS_TRACE_DISABLED")


@functools.lru_cache(maxsize=1)
def _tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer()


@contextlib.contextmanager
def traced(agent: str, step: str) -> Iterator[None]:
    """An X-Ray subsegment around the agent's work, annotated with agent and step."""
    if not _tracing_wanted():
        yield
        return
    with _tracer().provider.in_subsegment(f"## agent {agent}") as subsegment:
        subsegment.put_annotation(key="agent", value=agent)
        subsegment.put_annotation(key="step", value=step)
        yield
