"""A test kit for agent authors: call an agent as Step Functions would, in a plain pytest test.

No AWS, no moto: the result cache, the secrets, the stash, the handoffs and the payload store
are in memory, and the agent runs through the same runtime as in Lambda (cache, accuracy gate,
secret checks, error names), so what passes here behaves the same when deployed.

```python
from baton_agent.testing import AgentTestKit


def test_greets():
    kit = AgentTestKit(secrets={"api-key": "s3cret"})
    call = kit.call(handler, {"name": "Ada"}, agent="greeter", secrets=["api-key"])
    assert call.data == {"greeting": "Hello, Ada"} and call.accuracy == 100
```

`baton.testing` adds pytest fixtures: `agent_kit` (a fresh kit per test) and `run_workflow`
(a whole workflow offline, on moto).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from baton_agent.cache import MemoryResultCache
from baton_agent.records import StepRecord, completed
from baton_agent.runtime import Backends, using
from baton_agent.secrets import SecretNotFoundError
from baton_agent.stash import PREFIX

Handler = Callable[..., dict[str, Any]]

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True)
class AgentCall:
    """What one invocation returned: the data to merge, the accuracy and the handoff meta."""

    data: dict[str, Any]
    """The data as it travels to the next step (a large value as an S3 reference)."""
    accuracy: float
    """The accuracy the agent reported (or the cached result's)."""
    meta: dict[str, Any]
    """The handoff: agent, step, attempt, start and end, duration, `validatedBy`, `cached`."""

    @property
    def cached(self) -> bool:
        """The result came from the result cache (the agent function did not run)."""
        return bool(self.meta.get("cached"))


class MemorySecrets:
    """Each tenant's secrets by short name; a name the tenant lacks is `SecretNotFoundError`,
    as Secrets Manager's ResourceNotFoundException becomes in Lambda."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.reads: list[tuple[str, str]] = []

    def add(self, tenant: str, name: str, value: str) -> None:
        self.values[(tenant, name)] = value

    def resolve(self, name: str) -> str:
        _prefix, tenant, short = name.rsplit("/", 2)
        self.reads.append((tenant, short))
        if (tenant, short) not in self.values:
            raise SecretNotFoundError(f"secret {name!r} cannot be read (ResourceNotFoundException)")
        return self.values[(tenant, short)]


class MemoryStash:
    """Values an agent keeps by reference, per tenant and execution."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], str] = {}

    def put(self, tenant: str, execution_id: str, value: str, ttl_seconds: int = 86_400) -> str:
        ref = PREFIX + uuid.uuid4().hex[:16]
        self.values[(tenant, execution_id, ref)] = value
        return ref

    def get(self, tenant: str, execution_id: str, ref: str) -> str | None:
        return self.values.get((tenant, execution_id, ref))


class MemoryExecutionLog:
    """The handoffs and checkpoints the runtime writes, and the failed attempts it records."""

    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.failures: list[Mapping[str, Any]] = []
        self.stopped_reason: str | None = None
        """Set it to make an Express run's next step stop (`ExecutionStoppedError`)."""

    def step_finished(self, record: StepRecord) -> None:
        self.steps.append(record)

    def stopped(self, tenant: str, execution_id: str, run: int) -> str | None:
        return self.stopped_reason

    def earlier_handoff(
        self, tenant: str, execution_id: str, step: str, item_key: str | None = None
    ) -> dict[str, Any] | None:
        found = [
            dict(r.handoff)
            for r in self.steps
            if (r.tenant, r.execution_id, r.item_key) == (tenant, execution_id, item_key)
            and completed(r.handoff, step)
        ]
        return found[-1] if found else None

    def attempt_failed(
        self, tenant: str, execution_id: str, failure: Mapping[str, Any], expires_at: int | None
    ) -> None:
        self.failures.append(failure)


class MemoryStats:
    """Accuracies the runtime recorded (it records a result the accuracy gate refused)."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, float]] = []

    def record(self, workflow: str, accuracies: Mapping[str, Sequence[float]]) -> None:
        self.recorded += [(agent, a) for agent, values in accuracies.items() for a in values]


class MemoryPayloads:
    """Large values moved out of the workflow data, by key (S3 in Lambda)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, retention_days: int | None) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)


@dataclass
class LambdaContext:
    """What Lambda passes as the handler's second argument (the parts the runtime reads)."""

    timeout_seconds: float = 60.0
    function_name: str = "baton-test-agent"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int((self.started + self.timeout_seconds - time.monotonic()) * 1000)


def ttl_seconds(ttl: float | str) -> int:
    """A cache TTL: seconds, or a duration with its unit (`15m`, `1h`)."""
    if isinstance(ttl, int | float):
        return max(1, int(ttl))
    match = _DURATION.match(ttl.strip())
    if match is None:
        raise ValueError(f"cache ttl {ttl!r}: give seconds or a duration such as 30s, 15m, 1h")
    return max(1, int(float(match.group(1)) * _SECONDS[match.group(2)]))


class AgentTestKit:
    """Calls agents with a fake context and in-memory backends; inspect what they left in
    `cache`, `secrets`, `stash`, `log`, `stats` and `payloads`.

    `secrets` are the tenant's secrets by short name; `clock` (seconds) drives the cache's TTL.
    """

    def __init__(
        self,
        *,
        tenant: str = "test",
        secrets: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant = tenant
        self.cache = MemoryResultCache(clock)
        self.secrets = MemorySecrets()
        self.stash = MemoryStash()
        self.log = MemoryExecutionLog()
        self.stats = MemoryStats()
        self.payloads = MemoryPayloads()
        for name, value in (secrets or {}).items():
            self.secrets.add(tenant, name, value)

    @property
    def backends(self) -> Backends:
        return Backends(self.cache, self.stats, self.secrets, self.log, self.stash, self.payloads)

    def call(
        self,
        handler: Handler,
        data: Mapping[str, Any],
        *,
        agent: str | None = None,
        step: str | None = None,
        attempt: int = 1,
        required_accuracy: float = 0,
        config: Mapping[str, Any] | None = None,
        secrets: Sequence[str] = (),
        allowed_hosts: Sequence[str] = (),
        cache_ttl: float | str | None = None,
        cache_key: Sequence[str] | None = None,
        version: str = "1",
        execution_id: str = "exec-test",
        tenant: str | None = None,
        timeout_seconds: float = 60.0,
        express: bool = False,
    ) -> AgentCall:
        """Invoke `handler` (an `@agent` function) with `data` as one attempt of one step.

        `secrets` are the names the agent's registry entry declares, `allowed_hosts` where it
        may send them; `cache_ttl` turns the result cache on for the step (`cache_key`: the
        input fields of its key). Errors are raised as the runtime raises them in Lambda.
        """
        name = agent or getattr(handler, "__name__", "agent").replace("_", "-")
        event: dict[str, Any] = {
            "agent": name,
            "step": step or name,
            "attempt": attempt,
            "requiredAccuracy": required_accuracy,
            "data": dict(data),
            "context": {
                "tenant": tenant or self.tenant,
                "executionId": execution_id,
                "express": express,
            },
            "config": dict(config or {}),
            "secrets": list(secrets),
            "allowedHosts": list(allowed_hosts),
        }
        if cache_ttl is not None:
            event["cache"] = {
                "ttl": ttl_seconds(cache_ttl),
                "key": list(cache_key) if cache_key else None,
                "version": version,
            }
        with using(self.backends):
            response = handler(event, LambdaContext(timeout_seconds))
        return AgentCall(response["data"], response["accuracy"], response["meta"])

    def call_registered(
        self,
        spec: Any,
        handler: Handler,
        data: Mapping[str, Any],
        **overrides: Any,
    ) -> AgentCall:
        """Invoke `handler` as its registry entry `spec` (a baton AgentSpec) configures it:
        name, required accuracy, config, declared secrets, allowed hosts, cache, timeout."""
        settings: dict[str, Any] = {
            "agent": spec.name,
            "required_accuracy": spec.required_accuracy,
            "config": spec.config,
            "secrets": spec.secrets,
            "allowed_hosts": spec.allowed_hosts,
            "timeout_seconds": spec.timeout_seconds,
            "version": spec.version,
        }
        if spec.cache.enabled:
            settings["cache_ttl"] = max(1, int(spec.cache.ttl // 1000))
            settings["cache_key"] = spec.cache.key
        return self.call(handler, data, **{**settings, **overrides})
