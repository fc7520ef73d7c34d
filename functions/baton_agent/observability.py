"""Metrics and tracing for each agent invocation, kept off the cold-start path.

Metrics: one CloudWatch EMF document per invocation (Powertools' EphemeralMetrics, so
concurrent invocations in one process never share a buffer): StepDuration, StepAccuracy,
CacheHit, StepFailed, with the agent as dimension. POWERTOOLS_METRICS_DISABLED=true silences
them (the offline runtime sets it).

Tracing: Powertools Tracer (the X-Ray SDK, ~0.25 s to import) is imported on the first
invocation, and only in Lambda with tracing not disabled (POWERTOOLS_TRACE_DISABLED).
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

    def failed(self) -> None:
        self.metrics.add_metric(name="StepFailed", unit=MetricUnit.Count, value=1)

    def flush(self) -> None:
        with contextlib.suppress(Exception):  # metrics must never fail a step
            self.metrics.flush_metrics()


def _tracing_wanted() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


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
