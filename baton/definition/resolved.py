"""A validated workflow with every agent reference resolved to a registry agent name.

This is what the compiler consumes: plain values, no spelling variants, durations in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from baton.definition.registry import AgentRegistry, AgentSpec
from baton.definition.workflow import FallbackStrategy, ForEach, Workflow


@dataclass(frozen=True)
class RetryPolicy:
    """Step Functions Retry fields for agent errors (MaxAttempts = retries after the first try)."""

    max_attempts: int
    interval_seconds: int
    backoff_rate: float
    max_delay_seconds: int | None
    jitter: bool

    def waits(self) -> list[float]:
        """The waits before each retry, without jitter: interval × rate^k, capped."""
        waits = []
        for attempt in range(self.max_attempts):
            wait = self.interval_seconds * self.backoff_rate**attempt
            if self.max_delay_seconds is not None:
                wait = min(wait, self.max_delay_seconds)
            waits.append(wait)
        return waits


@dataclass(frozen=True)
class StepPolicy:
    """How one agent step retries and what happens when its retries are exhausted."""

    retry: RetryPolicy
    strategy: FallbackStrategy = "retry"
    alternative: str | None = None


@dataclass(frozen=True)
class ResolvedCache:
    """The effective cache policy of a step: the agent's defaults, overridden by the workflow."""

    ttl_seconds: int
    key: tuple[str, ...] | None
    version: str


@dataclass(frozen=True)
class ResolvedCondition:
    after: str
    when: str
    then: tuple[str, ...]
    else_: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class ResolvedWorkflow:
    id: str
    name: str
    type: str
    agents: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    conditions: tuple[ResolvedCondition, ...]
    policies: dict[str, StepPolicy]
    default_retry: RetryPolicy
    timeout_seconds: int
    retention_seconds: int
    initial_data: dict[str, Any]
    registry: AgentRegistry
    source: Workflow
    file: str = ""
    description: str = ""
    caches: dict[str, ResolvedCache] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()
    """Where this workflow's agents may send secrets (config.allowedHosts)."""
    for_each: dict[str, ForEach] = field(default_factory=dict)
    """Agents that run once per item of a list in the data (a fan-out)."""

    def agent(self, name: str) -> AgentSpec:
        return self.registry.get(name)

    def definition_as_written(self) -> dict[str, Any]:
        """The definition as JSON, defaults left out: what the API and the console show, and
        what tells two deployed versions apart."""
        return self.source.model_dump(mode="json", exclude_defaults=True)

    def policy(self, name: str) -> StepPolicy:
        return self.policies.get(name) or StepPolicy(retry=self.default_retry)
