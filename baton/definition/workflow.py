"""The workflow definition format.

Two spellings are accepted for the same model: the reference document's JSON (numeric agent ids,
`timeout` in milliseconds, conditions as `{agentId, when, thenAgents, elseAgents}`, fallbacks as
`{strategy, alternativeAgentId, maxRetries}`) and a shorter YAML form (agent names, durations such
as `5m`, conditions as `{after, when, then, else}`). Agent references stay unresolved here; the
validator resolves them against the registry.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator

from baton.definition.base import AgentRef, DefinitionModel
from baton.definition.durations import Duration
from baton.definition.registry import AllowedHost
from baton.definition.sizes import Size

FallbackStrategy = Literal["retry", "alternative", "skip", "abort"]
WORKFLOW_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"


class Backoff(DefinitionModel):
    """Exponential backoff between retries: waits `interval × rate^k`, capped at `maxDelay`."""

    interval: Duration = 2000
    rate: float = 2.0
    max_delay: Duration | None = None
    jitter: bool = False


DEFAULT_RETENTION_MS = 90 * 86_400_000
INLINE_LIMIT = 200 * 1024
"""Step Functions carries 256 KiB between states; the rest is the payload's envelope."""


class WorkflowConfig(DefinitionModel):
    timeout: Duration = 300_000
    retention: Duration = DEFAULT_RETENTION_MS
    """How long execution records, handoffs, checkpoints and idempotency keys are kept (TTL)."""
    max_retries: int = 3
    backoff: Backoff = Backoff()
    auto_recovery: bool = True
    max_recoveries: int = Field(1, ge=0, le=5)
    parallel_groups: list[list[AgentRef]] = Field(default_factory=list)
    allowed_hosts: list[AllowedHost] = Field(default_factory=list)
    """Hosts the agents of this workflow may send a secret to (with the registry's own)."""
    inline_limit: Size = Field(INLINE_LIMIT, ge=1024, le=INLINE_LIMIT)
    """The most workflow data that travels between steps inline (UTF-8 JSON); above it, the
    largest values go to S3 and travel by reference (baton_agent.payloads)."""


MAX_WAIT_SECONDS = 99_999_999
"""The longest a Wait state waits (Step Functions' limit on Seconds)."""


def recovery_delays(config: WorkflowConfig) -> tuple[int, ...]:
    """The wait before each auto-recovery: the workflow's backoff (interval × rate^k, capped at
    maxDelay), in whole seconds as a Wait state takes them (at least 1)."""
    backoff = config.backoff
    delays = []
    for k in range(config.max_recoveries):
        seconds = backoff.interval / 1000 * backoff.rate**k
        if backoff.max_delay is not None:
            seconds = min(seconds, backoff.max_delay / 1000)
        delays.append(max(1, math.ceil(min(seconds, MAX_WAIT_SECONDS))))
    return tuple(delays)


class Condition(DefinitionModel):
    """After `after` has run, `when` (JSONata on the workflow data) picks `then` or `else`."""

    after: AgentRef = Field(validation_alias=AliasChoices("after", "agentId"))
    when: str = Field(validation_alias=AliasChoices("when", "condition"))
    then: list[AgentRef] = Field(
        default_factory=list, validation_alias=AliasChoices("then", "thenAgents")
    )
    else_: list[AgentRef] = Field(
        default_factory=list,
        validation_alias=AliasChoices("else", "elseAgents"),
        serialization_alias="else",
    )
    name: str | None = None


class Fallback(DefinitionModel):
    """What to do once an agent's retries are exhausted."""

    strategy: FallbackStrategy = "retry"
    alternative: AgentRef | None = Field(
        None, validation_alias=AliasChoices("alternative", "alternativeAgentId")
    )
    max_retries: int | None = None


class CachePolicy(DefinitionModel):
    """Per-step override of the agent's cache defaults."""

    enabled: bool = True
    ttl: Duration | None = None
    key: list[str] | None = None


FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
INLINE_MAP_CONCURRENCY = 40
"""Above this concurrency a fan-out runs as a Distributed Map (each item a child execution)."""


class ForEach(DefinitionModel):
    """Run an agent once per item of a list in the workflow data (a fan-out).

    Each run sees the workflow data with its item under `as`; the results land in `into`, a list
    in item order (a failed item, within the tolerated share, as `{failed, error, cause}`).
    """

    items: str = Field(pattern=FIELD_PATTERN, max_length=128)
    as_: str = Field("item", pattern=FIELD_PATTERN, max_length=128, alias="as")
    into: str | None = Field(None, pattern=FIELD_PATTERN, max_length=128)
    """Defaults to `<items>Results`."""
    max_concurrency: int = Field(INLINE_MAP_CONCURRENCY, ge=1, le=10_000)
    tolerated_failure_percentage: float = Field(0, ge=0, le=100)
    max_items: int = Field(1_000, ge=1, le=100_000)
    """The most items a run may hand over: the history budget counts this many."""

    @property
    def results_field(self) -> str:
        return self.into or f"{self.items}Results"

    @property
    def distributed(self) -> bool:
        return self.max_concurrency > INLINE_MAP_CONCURRENCY


def _for_each_shorthand(value: Any) -> Any:
    """`forEach: {agent: sites}` is `forEach: {agent: {items: sites}}`."""
    value = _keyed_by_agent(value)
    if isinstance(value, dict):
        return {k: {"items": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


class Trigger(DefinitionModel):
    """Start workflow `workflow` when this one ends `on` completed (or failed); the output data
    of this one is its input."""

    on: Literal["completed", "failed"] = "completed"
    workflow: str


class Schedule(DefinitionModel):
    """Start the workflow on a schedule (EventBridge Scheduler), as `tenant`, with `input`."""

    expression: str = Field(min_length=1, max_length=256)
    """rate(1 hour), cron(0 9 ? * MON-FRI *) or at(2026-12-01T09:00:00)."""
    timezone: str = "UTC"
    input: dict[str, Any] = Field(default_factory=dict)
    tenant: str = "default"
    enabled: bool = True


class Metadata(DefinitionModel):
    created_by: str | None = None
    created_at: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("created_at", mode="before")
    @classmethod
    def _date_as_text(cls, value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value


def _keyed_by_agent(value: Any) -> Any:
    """Accept `{agent: {...}}` or `[{agent|agentId: ..., ...}]`; return the mapping form."""
    if not isinstance(value, list):
        return value
    mapping: dict[str, Any] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"item {index} must be a mapping with an 'agent' key")
        item = dict(item)
        ref = item.pop("agent", item.pop("agentId", None))
        if ref is None:
            raise ValueError(f"item {index} names no agent (add 'agent: <name or id>')")
        mapping[str(ref)] = item
    return mapping


class Workflow(DefinitionModel):
    """A workflow definition as written in a file."""

    id: str = Field(pattern=WORKFLOW_ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    type: Literal["standard", "express"] = "standard"
    agents: list[AgentRef]
    initial_data: dict[str, Any] = Field(default_factory=dict)
    config: WorkflowConfig = WorkflowConfig()
    conditions: list[Condition] = Field(default_factory=list)
    fallbacks: dict[str, Fallback] = Field(default_factory=dict)
    cache: dict[str, CachePolicy] = Field(default_factory=dict)
    for_each: dict[str, ForEach] = Field(default_factory=dict)
    triggers: list[Trigger] = Field(default_factory=list)
    schedule: Schedule | None = None
    metadata: Metadata = Metadata()

    _keyed_fallbacks = field_validator("fallbacks", "cache", mode="before")(
        classmethod(lambda cls, value: _keyed_by_agent(value))
    )
    _keyed_for_each = field_validator("for_each", mode="before")(
        classmethod(lambda cls, value: _for_each_shorthand(value))
    )
