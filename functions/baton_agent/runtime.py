"""The handler wrapper: parse the invocation, consult the cache, run the agent, gate, describe.

The invocation payload is what the compiled state machine sends:
`{agent, step?, attempt, requiredAccuracy, data, context, cache?, replaces?, failure?}`.
The response is `{data, accuracy, meta}`; `meta` records the handoff (agent, step, attempt,
start and end time, duration, how it was validated, whether it came from the cache).
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from baton_agent import init_phase, keys
from baton_agent.cache import CachedResult, CachePolicy, DynamoResultCache, ResultCache, cache_key
from baton_agent.errors import (
    AccuracyBelowThreshold,
    AgentError,
    AgentInputError,
    AttemptAbandonedError,
    BudgetSpentError,
    ExecutionStoppedError,
    PayloadTooLargeError,
    SecretDestinationError,
    SecretLeakError,
    SecretNotDeclaredError,
)
from baton_agent.hosts import destination, host_allowed
from baton_agent.observability import StepMetrics, traced
from baton_agent.payloads import (
    BUDGET_BYTES,
    ClaimCheck,
    PayloadStore,
    S3PayloadStore,
    json_bytes,
)
from baton_agent.records import DynamoExecutionLog, ExecutionLog, StepRecord
from baton_agent.redaction import contains_any, redact, strings_in
from baton_agent.secrets import SecretResolver, SecretsManagerResolver
from baton_agent.stash import DynamoStash, Stash
from baton_agent.stats import AccuracyStats, DynamoAccuracyStats

if TYPE_CHECKING:
    from baton_agent.settings import AgentSettings

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest


@dataclass(frozen=True)
class AgentResult:
    """What an agent returns: data to merge into the workflow data, and its accuracy (0–100).
    An agent may also return a plain dict: its data, at accuracy 100."""

    data: dict[str, Any] = field(default_factory=dict)
    """Merged into the workflow data (`{...data, ...result.data}`) for the steps after it.
    Large values travel by reference to S3; a secret value the agent read is refused
    (`SecretLeakError`)."""
    accuracy: float = 100.0
    """How sure the agent is of its result, a number from 0 to 100 (anything else is an
    `AgentError`). Below the registry entry's `requiredAccuracy` the attempt fails."""


@dataclass(frozen=True)
class AgentContext:
    """Where an invocation stands: which agent and step, which attempt, which execution."""

    agent: str
    """The agent's registry name (`check-price`)."""
    step: str
    """The step it runs as: its name in the workflow, `name[i]` for a fan-out's item i."""
    attempt: int
    """1 for the first attempt; Step Functions' Retry calls it again with 2, 3... after an error
    it retries (see Errors), waiting the workflow's backoff in between."""
    required_accuracy: float
    """The registry entry's `requiredAccuracy`: a lower accuracy fails the attempt
    (`AccuracyBelowThreshold`), which is retried."""
    execution: Mapping[str, Any]
    """The run's context: `tenant`, `executionId`, `run`, `deadline`, `noCache`... (read it
    through the properties below)."""
    replaces: str | None = None
    """Set when this agent runs as an `alternative` fallback: the agent whose retries ran out."""
    failure: Mapping[str, Any] | None = None
    """With `replaces`: the error that agent ended with (`{"Error": ..., "Cause": ...}`)."""
    cache: CachePolicy | None = None
    """The step's result-cache policy (TTL, key fields, version), None when the step caches
    nothing. The runtime answers from the cache before the agent runs: see Cache keys."""
    checkpoint: str | None = None
    """The step this attempt checkpoints when it succeeds (None inside a group: the group's
    last member checkpoints for all)."""
    position: int = 0
    """Where the checkpointed step stands in the workflow: checkpoints only move forward."""
    config: Mapping[str, Any] = field(default_factory=dict)
    """The registry entry's `config`: agent-specific settings (selectors, field maps)."""
    group_size: int = 1
    """How many results merge into the data with this one (a parallel group's members, or a
    fan-out's items)."""
    index: int | None = None
    """A fan-out's item number (from 0): the agent runs once per item of a list in the data."""
    item_key: str | None = None
    """(Runtime) a fan-out item's identity across runs (its step and a digest of the item): a
    resumed run finds by it whether an earlier run completed the item."""
    declared_secrets: tuple[str, ...] = ()
    """The secrets the agent's registry entry declares: the only names `secret` resolves."""
    allowed_hosts: tuple[str, ...] = ()
    """Where a secret may be sent (the workflow's and the registry entry's `allowedHosts`)."""
    secrets: SecretResolver | None = None
    """(Runtime) where `secret()` reads from: Secrets Manager in Lambda."""
    stash: Stash | None = None
    """(Runtime) where `keep()` and `take()` store: the executions table in Lambda."""
    resolved: set[str] = field(default_factory=set)
    """(Runtime) every secret value this attempt read: refused in the data it returns, withheld
    from its error messages."""

    def keep(self, value: str, *, secret: bool = False) -> str:
        """Stash `value` server-side for this execution; return the reference to hand on.

        With `secret`, the value is also refused in any data this agent returns.
        """
        if self.stash is None or not self.execution_id:
            raise AgentInputError("no stash: this invocation belongs to no execution")
        if secret:
            self.resolved.add(value)
        return self.stash.put(self.tenant, self.execution_id, value)

    def take(self, ref: str, *, secret: bool = False) -> str:
        """The value stashed under `ref` by an earlier step of this execution."""
        if self.stash is None or not self.execution_id:
            raise AgentInputError("no stash: this invocation belongs to no execution")
        value = self.stash.get(self.tenant, self.execution_id, ref)
        if value is None:
            raise AgentInputError(f"nothing is stashed under {ref!r} for this execution")
        if secret:
            self.resolved.add(value)
        return value

    def secret(self, name: str, *, to: str | None = None) -> str:
        """The value of this tenant's secret `name` (a name the workflow data holds; it must be
        one the agent's registry entry declares). `to` is the URL or host the value will be sent
        to: it must be one the workflow or the registry allows (`allowedHosts`)."""
        if self.secrets is None:
            raise AgentInputError("no secret resolver is configured")
        if name not in self.declared_secrets:
            declared = ", ".join(self.declared_secrets) or "none"
            raise SecretNotDeclaredError(
                f"agent {self.agent} may read only the secrets its registry entry declares "
                f"({declared}); {name!r} is not one"
            )
        if to is not None and not host_allowed(to, self.allowed_hosts):
            host, port = destination(to)
            allowed = ", ".join(self.allowed_hosts) or "none"
            raise SecretDestinationError(
                f"agent {self.agent} may not send secret {name!r} to {host or to}"
                f"{f':{port}' if port else ''}: the allowed hosts are {allowed} (allowedHosts "
                "in the workflow's config or the agent's registry entry)"
            )
        value = self.secrets.resolve(secret_id(self.tenant, name))
        self.resolved.add(value)
        return value

    @property
    def tenant(self) -> str:
        """The tenant the run belongs to (from the verified identity that started it, never
        from the data): secrets, the cache and the stash are the tenant's own."""
        return str(self.execution.get("tenant", "default"))

    @property
    def workflow_id(self) -> str:
        """The workflow this attempt runs in ("" when no lifecycle started it)."""
        return str(self.execution.get("workflowId", ""))

    @property
    def execution_id(self) -> str:
        """The execution this attempt belongs to ("" when no lifecycle started it)."""
        return str(self.execution.get("executionId", ""))

    @property
    def expires_at(self) -> int | None:
        """When this execution's records may be deleted (epoch seconds), if the run says."""
        value = self.execution.get("expiresAt")
        return int(value) if isinstance(value, int | float) else None

    @property
    def run(self) -> int:
        """The number of the execution's run this attempt belongs to (the lifecycle names its
        runs `<executionId>-<n>`; 0 for a run no lifecycle started, whatever its name)."""
        name = keys.run_name(str(self.execution.get("run", "")))
        execution, _, number = name.rpartition("-")
        lifecycle = execution == self.execution_id and number.isdigit()
        return int(number) if lifecycle else 0

    @property
    def member_of_a_resumed_run(self) -> bool:
        """A parallel group's member or a fan-out's item in a run that resumed the execution:
        an earlier run may have completed it (a resume enters the group or the fan-out again
        whole, its checkpoint being the step before it)."""
        return self.checkpoint is None and self.run > 1

    @property
    def express(self) -> bool:
        """An Express run: no history to read failures from, no StopExecution (see
        baton.compiler.express): it records its failed attempts and checks for a stop itself."""
        return self.execution.get("express") is True

    @property
    def inline(self) -> tuple[str, ...]:
        """The data fields conditions read: they stay inline, never moved to S3."""
        return tuple(str(f) for f in self.execution.get("inline") or ())

    @property
    def inline_budget(self) -> int:
        """The most workflow data that travels inline (the workflow's `inlineLimit`)."""
        value = self.execution.get("inlineBytes")
        return int(value) if isinstance(value, int) else BUDGET_BYTES

    @property
    def retention_days(self) -> int | None:
        """How long the workflow keeps its records (`retention`), in days, if it says."""
        value = self.execution.get("retentionDays")
        return int(value) if isinstance(value, int | float) else None

    @property
    def use_cache(self) -> bool:
        """Whether the runtime consults the result cache (a policy, and no `noCache` run)."""
        return self.cache is not None and not self.execution.get("noCache")


AgentFunction = Callable[[dict[str, Any], AgentContext], AgentResult | dict[str, Any]]


def _settings() -> AgentSettings:
    """The settings, imported on first use: an agent that never reaches AWS never pays for them."""
    from baton_agent.settings import get_settings

    return get_settings()


@functools.lru_cache(maxsize=1)
def _dynamodb() -> Any:
    import boto3  # imported on first use: agents without cache or stats never pay for it
    from botocore.config import Config

    # throttling is retried here, with botocore's jittered backoff, rather than failing a step
    # whose work is done
    retries: Any = {"mode": "standard", "max_attempts": DYNAMODB_ATTEMPTS}
    return boto3.client("dynamodb", region_name=_settings().region, config=Config(retries=retries))


DYNAMODB_ATTEMPTS = 8
"""Tries of a DynamoDB call before a step gives up (botocore's standard retry mode)."""


def now() -> float:
    """The clock the default cache reads; tests replace it (`baton_agent.runtime.now`)."""
    return time.time()


@dataclass(frozen=True)
class Backends:
    """Where the runtime keeps and reads what it does not compute: the result cache, accuracy
    statistics, secrets, handoffs and checkpoints, the stash, large payloads. In Lambda they
    are DynamoDB, Secrets Manager and S3; `baton_agent.testing` swaps in memory for a test."""

    cache: ResultCache
    stats: AccuracyStats
    secrets: SecretResolver
    log: ExecutionLog
    stash: Stash
    payloads: PayloadStore | None


_BACKENDS: ContextVar[Backends | None] = ContextVar("baton_agent_backends", default=None)


@contextmanager
def using(backends: Backends) -> Iterator[Backends]:
    """Run the agents called inside with these backends instead of AWS's."""
    token = _BACKENDS.set(backends)
    try:
        yield backends
    finally:
        _BACKENDS.reset(token)


def default_cache() -> ResultCache:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.cache
    return DynamoResultCache(_settings().cache_table, _dynamodb(), clock=lambda: now())


def default_log() -> ExecutionLog:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.log
    return DynamoExecutionLog(_settings().executions_table, _dynamodb())


def default_stash() -> Stash:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.stash
    return DynamoStash(_settings().executions_table, _dynamodb())


def default_stats() -> AccuracyStats:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.stats
    return DynamoAccuracyStats(_settings().stats_table, _dynamodb())


@functools.lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    retries: Any = {"mode": "standard", "max_attempts": S3_ATTEMPTS}
    return boto3.client("s3", region_name=_settings().region, config=Config(retries=retries))


S3_ATTEMPTS = 5
"""Tries of an S3 call (503 Slow Down, 500) before the attempt fails and Step Functions
retries the step."""


def default_payloads() -> PayloadStore | None:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.payloads
    bucket = _settings().payload_bucket
    return S3PayloadStore(bucket, _s3) if bucket else None


@functools.lru_cache(maxsize=1)
def _secretsmanager() -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=_settings().region)


@functools.lru_cache(maxsize=1)
def _secrets_manager_resolver() -> SecretResolver:
    return SecretsManagerResolver(_secretsmanager)


def default_secrets() -> SecretResolver:
    chosen = _BACKENDS.get()
    if chosen is not None:
        return chosen.secrets
    return _secrets_manager_resolver()


def cold_start() -> None:
    """Forget per-container state (clients, cached secrets), as a new Lambda container would."""
    for cached in (_dynamodb, _s3, _secretsmanager, _secrets_manager_resolver):
        cached.cache_clear()


def secret_id(tenant: str, name: str) -> str:
    """The Secrets Manager name of a tenant's secret: `<prefix>/<tenant>/<name>`. The prefix
    and the tenant come from the deployment and the run, never from the data, so one tenant's
    data cannot name another's secret (in the cloud IAM allows the same pattern only)."""
    return f"{_settings().secrets_prefix}/{tenant}/{name}"


def _refuse_leaks(ctx: AgentContext, data: dict[str, Any]) -> None:
    if not ctx.resolved:
        return
    if any(contains_any(text, ctx.resolved) for text in strings_in(data)):
        raise SecretLeakError(f"agent {ctx.agent} returned a secret value in its data; refused")


def _without_secrets(err: Exception, ctx: AgentContext) -> Exception:
    """The error with every secret value this attempt resolved taken out of its message (it
    becomes the Lambda error's message: history, records, events, notifications, logs)."""
    if not ctx.resolved or not contains_any(str(err), ctx.resolved):
        return err
    err.args = (redact(str(err), ctx.resolved),)
    if contains_any(str(err), ctx.resolved):  # a message not built from args
        return AgentError(f"agent {ctx.agent} failed with a message that held a secret (withheld)")
    return err


MAX_PAYLOAD_BYTES = 262_144
"""Step Functions carries at most 256 KiB between states (UTF-8 bytes of the JSON)."""


def _travelling(
    ctx: AgentContext, claims: ClaimCheck, incoming: Mapping[str, Any], result: Mapping[str, Any]
) -> dict[str, Any]:
    """The result as it travels: its large values in S3, so that the workflow data it merges
    into fits.

    - A step's result merges into the data alone: values of either move, largest first.
    - A group's members merge at once: each moves the data's large values down to half the
      budget (all of them move the same values: a reference names its content, so their
      results agree), then keeps its own result within its share of what is left.
    - A fan-out's items become one list: each item's result is an element, moved whole when
      it is larger than its share.
    """
    if ctx.checkpoint is not None:
        what = f"agent {ctx.agent}: the workflow data with its result"
        return claims.offload(
            result, base=incoming, budget=ctx.inline_budget, inline=ctx.inline, what=what
        )
    budget, members = ctx.inline_budget, max(1, ctx.group_size)
    if ctx.index is not None:
        share = (budget - json_bytes(incoming)) // members
        item = claims.offload_value(dict(result), budget=share, where=f"{ctx.step}'s result")
        if json_bytes(item) > share:
            raise PayloadTooLargeError(
                f"agent {ctx.agent}: the results of {members} items cannot travel together "
                f"(each gets {max(share, 0):,} bytes, less than a reference to S3): lower the "
                "fan-out's maxItems, or keep less in the workflow data"
            )
        return item  # type: ignore[no-any-return]
    lighter = claims.offload(incoming, budget=budget // 2, inline=ctx.inline)
    moved = {k: v for k, v in lighter.items() if v is not incoming.get(k)}
    share = (budget - json_bytes(lighter)) // members
    what = f"agent {ctx.agent}: its result (one of {members} merging at once)"
    own = claims.offload(result, budget=share, inline=ctx.inline, what=what)
    return {**{k: v for k, v in moved.items() if k not in own}, **own}


def _refuse_oversized(ctx: AgentContext, response: Any) -> None:
    """The last guard: a response Step Functions could not carry is refused, not checkpointed
    (it would fail every resume the same way)."""
    size = json_bytes(response)
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(
            f"agent {ctx.agent}: the result is {size:,} bytes; Step Functions carries at most "
            f"{MAX_PAYLOAD_BYTES:,} between states"
        )


def _refuse_abandoned(ctx: AgentContext, lambda_context: Any) -> None:
    """Only the attempt Step Functions still waits for may write: past its deadline, Lambda
    has reported a timeout (and another attempt or the fallback has taken over)."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if remaining is not None and remaining() <= 0:
        raise AttemptAbandonedError(
            f"agent {ctx.agent} finished attempt {ctx.attempt} of {ctx.step} after its timeout: "
            "its result is not recorded"
        )


def _refuse_past_deadline(ctx: AgentContext) -> None:
    """A resumed run inherits what is left of the execution's budget: no step starts after it
    (the state machine's own TimeoutSeconds restarts with every run)."""
    deadline = ctx.execution.get("deadline")
    if isinstance(deadline, int | float) and time.time() >= deadline:
        raise BudgetSpentError(
            f"the execution's time budget (the workflow timeout, across all its runs) ran out "
            f"before {ctx.step} started"
        )


def _refuse_stopped(ctx: AgentContext, log: Callable[[], ExecutionLog]) -> None:
    """Cancel and pause of an Express run are cooperative: no step starts once its execution
    was cancelled or paused, or once a resume made another run the current one."""
    if ctx.express and ctx.execution_id:
        reason = log().stopped(ctx.tenant, ctx.execution_id, ctx.run)
        if reason:
            raise ExecutionStoppedError(f"{ctx.step} was not started: {reason}")


def _record_failure(ctx: AgentContext, log: Callable[[], ExecutionLog], err: Exception) -> None:
    """A failed attempt, for its record: an Express run has no history to show it, and a
    Standard run's history may be throttled when the run ends (baton_service.events)."""
    if not ctx.execution_id or isinstance(err, ExecutionStoppedError):
        return
    name = "AgentInputError" if isinstance(err, AgentInputError) else type(err).__name__
    failure = {
        "agent": ctx.agent,
        "step": ctx.step,
        "attempt": ctx.attempt,
        "error": name,
        "message": str(err),
        "timestamp": _now(),
        "run": ctx.execution.get("run"),
    }
    _best_effort(
        "failure record",
        lambda: log().attempt_failed(ctx.tenant, ctx.execution_id, failure, ctx.expires_at),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _context_from(
    event: Mapping[str, Any], secrets: SecretResolver | None, stash: Stash | None
) -> AgentContext:
    if not isinstance(event, Mapping) or not isinstance(event.get("data"), Mapping):
        raise AgentInputError("the invocation carries no workflow data (a 'data' object)")
    agent = str(event.get("agent", ""))
    step = str(event.get("step", agent))
    index = None if event.get("index") is None else int(event["index"])
    if index is not None:  # a fan-out's item: the step it runs as names it
        step = f"{step}[{index}]"
    return AgentContext(
        agent=agent,
        step=step,
        index=index,
        item_key=None if index is None else keys.item_key(step, event.get("item")),
        attempt=int(event.get("attempt", 1)),
        required_accuracy=float(event.get("requiredAccuracy", 0)),
        execution=event.get("context") or {},
        replaces=event.get("replaces"),
        failure=event.get("failure"),
        cache=CachePolicy.from_payload(event.get("cache")),
        checkpoint=None
        if event.get("group")
        else str(event.get("checkpoint", event.get("step", agent))),
        position=int(event.get("position", 0)),
        config=event.get("config") or {},
        group_size=int(event.get("members", 1)),
        declared_secrets=tuple(str(n) for n in event.get("secrets") or ()),
        allowed_hosts=tuple(str(h) for h in event.get("allowedHosts") or ()),
        secrets=secrets,
        stash=stash,
    )


def _as_result(value: AgentResult | dict[str, Any], agent: str) -> AgentResult:
    if isinstance(value, dict):
        return AgentResult(data=value)
    if not isinstance(value, AgentResult):
        raise TypeError(f"agent {agent} returned {type(value).__name__}, not AgentResult or dict")
    accuracy = value.accuracy
    valid = isinstance(accuracy, int | float) and not isinstance(accuracy, bool)
    if not valid or not math.isfinite(accuracy) or not 0 <= accuracy <= 100:
        raise AgentError(
            f"agent {agent} returned accuracy {accuracy!r}: an accuracy is a number from 0 to 100"
        )
    return value


def _response(
    ctx: AgentContext,
    data: dict[str, Any],
    accuracy: float,
    started: tuple[str, float],
    *,
    cached: bool,
) -> dict[str, Any]:
    return {
        "data": data,
        "accuracy": accuracy,
        "meta": {
            "agent": ctx.agent,
            "step": ctx.step,
            "attempt": ctx.attempt,
            "startedAt": started[0],
            "finishedAt": _now(),
            "durationMs": round((time.perf_counter() - started[1]) * 1000, 3),
            "validatedBy": ["cache"] if cached else ["accuracy-check"],
            "cached": cached,
            "replaces": ctx.replaces,
            "run": ctx.execution.get("run"),
        },
    }


def _recorded(
    ctx: AgentContext,
    log: Callable[[], ExecutionLog],
    data: dict[str, Any],
    response: dict[str, Any],
) -> dict[str, Any]:
    """Write the step's handoff and checkpoint before handing the result on."""
    if ctx.execution_id:
        handoff = {**response["meta"], "accuracy": response["accuracy"], "data": response["data"]}
        log().step_finished(
            StepRecord(
                tenant=ctx.tenant,
                execution_id=ctx.execution_id,
                handoff=handoff,
                checkpoint_after=ctx.checkpoint,
                data_after={**data, **response["data"]},
                expires_at=ctx.expires_at,
                run=ctx.run,
                position=ctx.position,
                item_key=ctx.item_key,
            )
        )
    return response


def _completed_earlier(ctx: AgentContext, log: Callable[[], ExecutionLog]) -> dict[str, Any] | None:
    """The result a resumed run's group member or fan-out item hands on without running
    again, when an earlier run completed it: its recorded handoff (already counted, announced
    and kept in the record: nothing is written again). None when it must run."""
    if not ctx.execution_id or not ctx.member_of_a_resumed_run:
        return None
    handoff = log().earlier_handoff(ctx.tenant, ctx.execution_id, ctx.step, ctx.item_key)
    if handoff is None:
        return None
    meta = {k: v for k, v in handoff.items() if k not in ("data", "accuracy")}
    logger.info("completed by an earlier run: not run again", extra={"run": meta.get("run")})
    return {
        "data": handoff["data"],
        "accuracy": handoff["accuracy"],
        "meta": {**meta, "reused": True},
    }


def _best_effort(action: str, fn: Callable[[], Any]) -> Any:
    """Cache and statistics must never fail an agent: log and go on."""
    try:
        return fn()
    except Exception:
        logger.warning(f"{action} failed", exc_info=True)
        return None


def agent(
    fn: AgentFunction | None = None,
    *,
    cache: Callable[[], ResultCache] = default_cache,
    stats: Callable[[], AccuracyStats] = default_stats,
    secrets: Callable[[], SecretResolver] = default_secrets,
    log: Callable[[], ExecutionLog] = default_log,
    stash: Callable[[], Stash] = default_stash,
    payloads: Callable[[], PayloadStore | None] = default_payloads,
) -> Any:
    """Wrap an agent function into a Lambda handler (`@agent`, or `@agent(cache=...)`)."""

    def wrap(function: AgentFunction) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        @functools.wraps(function)
        def handler(event: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
            fields = event if isinstance(event, Mapping) else {}
            agent_name = str(fields.get("agent", ""))
            metrics = StepMetrics(agent_name)
            try:
                with traced(agent_name, str(fields.get("step", agent_name))):
                    response = run(event, lambda_context)
                meta = response["meta"]
                if meta.get("reused"):  # its duration and accuracy counted when it ran
                    metrics.reused()
                else:
                    metrics.succeeded(
                        meta["durationMs"], response["accuracy"], cached=meta["cached"]
                    )
                return response
            except AgentInputError as err:
                metrics.failed()
                if type(err) is AgentInputError:
                    raise
                # Retry and Catch match error names exactly: every input error is reported
                # under the one name the compiled Retry block never retries.
                raise AgentInputError(f"{type(err).__name__}: {err}") from err
            except Exception:
                metrics.failed()
                raise
            finally:
                metrics.flush()

        def run(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
            ctx = _context_from(event, secrets(), stash())
            try:
                return attempt(ctx, event, lambda_context)
            except Exception as err:
                clean = _without_secrets(err, ctx)
                _record_failure(ctx, log, clean)
                if clean is err:
                    raise
                raise clean from None

        def attempt(
            ctx: AgentContext, event: dict[str, Any], lambda_context: Any
        ) -> dict[str, Any]:
            _refuse_past_deadline(ctx)
            _refuse_stopped(ctx, log)
            started = (_now(), time.perf_counter())
            logger.append_keys(agent=ctx.agent, step=ctx.step, attempt=ctx.attempt)
            earlier = _completed_earlier(ctx, log)
            if earlier is not None:
                return earlier
            incoming = dict(event["data"])  # as it travels: large values are references
            claims = ClaimCheck(payloads(), ctx.tenant, ctx.retention_days)
            data = claims.resolve(incoming)  # agents see whole values (also inside lists)
            if ctx.index is not None:  # a fan-out's item, under the name the workflow gives it
                item = claims.resolve(event.get("item"), "item")
                data = {**data, str(event.get("as") or "item"): item}
            key = None
            if ctx.use_cache:
                assert ctx.cache is not None
                key = cache_key(ctx.tenant, ctx.agent, ctx.cache, data)
                hit = _best_effort("cache read", lambda: cache().get(key))
                if hit is not None and hit.accuracy >= ctx.required_accuracy:
                    wire = _travelling(ctx, claims, incoming, hit.data)
                    response = _response(ctx, wire, hit.accuracy, started, cached=True)
                    _refuse_oversized(ctx, response)
                    _refuse_abandoned(ctx, lambda_context)
                    return _recorded(ctx, log, incoming, response)
            result = _as_result(function(data, ctx), ctx.agent)
            _refuse_leaks(ctx, result.data)
            if result.accuracy < ctx.required_accuracy:
                _best_effort(
                    "accuracy statistics",
                    lambda: stats().record(ctx.workflow_id, {ctx.agent: [result.accuracy]}),
                )
                logger.warning("accuracy below threshold", extra={"accuracy": result.accuracy})
                raise AccuracyBelowThreshold(ctx.agent, result.accuracy, ctx.required_accuracy)
            # large values go to S3 before any record: a retry writes the same objects
            alone = claims.offload(
                result.data,
                budget=ctx.inline_budget,
                inline=ctx.inline,
                what=f"agent {ctx.agent}: its result",
            )
            wire = _travelling(ctx, claims, incoming, alone)
            response = _response(ctx, wire, result.accuracy, started, cached=False)
            _refuse_oversized(ctx, response)  # before any write: nothing to undo
            _refuse_abandoned(ctx, lambda_context)
            if key is not None and ctx.cache is not None:
                stored = CachedResult(alone, result.accuracy, time.time())
                ttl = ctx.cache.ttl_seconds
                _best_effort(
                    "cache write",
                    lambda: cache().put(key, stored, ttl, agent=ctx.agent, tenant=ctx.tenant),
                )
            return _recorded(ctx, log, incoming, response)

        _at_init(log)
        return handler

    return wrap(fn) if fn is not None else wrap


def _at_init(log: Callable[[], ExecutionLog]) -> None:
    """In Lambda, make the DynamoDB client while the module loads (the init phase, before the
    first request waits on it): every invocation records its step. Then the init phase ends
    (init_phase.release)."""
    if log is default_log and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        _dynamodb()
    init_phase.release()
