"""The agent registry: which agents exist, their handlers and their runtime settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from baton.definition.base import AgentName, AgentRef, DefinitionModel
from baton.definition.durations import Duration, format_duration
from baton_agent.hosts import HOST_PATTERN

MAX_AGENT_TIMEOUT_MS = 900_000
"""An agent is a Lambda function: it runs at most 15 minutes."""
TASK_TIMEOUT_MARGIN_SECONDS = 15
"""How much longer Step Functions waits for an agent's Task than Lambda lets the function run.

Lambda stops the function at its timeout; the Task must outlast it, or Step Functions would
abandon a function that is still running (and writing). The margin covers Lambda's init phase
(at most 10 s) and the invocation's round trip.
"""


class PoolSpec(DefinitionModel):
    """Concurrency of an agent: `warm` instances kept ready, at most `max` at once."""

    warm: int = Field(0, ge=0)
    max: int | None = Field(None, ge=1)


class CacheSpec(DefinitionModel):
    """Default result-cache policy of an agent (a workflow may override it per step)."""

    enabled: bool = True
    ttl: Duration = Field(3_600_000, gt=0)
    key: list[str] | None = None


SECRET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+=@-]{0,127}$"
SecretName = Annotated[str, Field(pattern=SECRET_NAME_PATTERN)]
"""A secret's name inside a tenant's space: no `/`, so it names nothing outside that space."""
AllowedHost = Annotated[str, Field(pattern=HOST_PATTERN.pattern, max_length=260)]


class AgentSpec(DefinitionModel):
    """One agent: a Lambda function with its own settings."""

    id: int = Field(ge=1)
    name: AgentName
    tier: str = "standard"
    capabilities: list[str] = Field(default_factory=list)
    required_accuracy: float = Field(0, ge=0, le=100)
    handler: str = Field(pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
    version: str = Field("1", min_length=1, max_length=40)
    config: dict[str, Any] = Field(default_factory=dict)
    """Agent-specific settings (selectors, field maps), passed to every invocation."""
    description: str = ""
    timeout: Duration = Field(60_000, gt=0)
    memory: int = Field(256, ge=128, le=10_240)
    pool: PoolSpec = PoolSpec()
    cache: CacheSpec = CacheSpec(enabled=False)
    secrets: list[SecretName] = Field(default_factory=list)
    """Names of the secrets this agent may read, each in the tenant's own space
    (`<prefix>/<tenant>/<name>`; in the cloud its IAM policy allows only these)."""
    allowed_hosts: list[AllowedHost] = Field(default_factory=list)
    """Hosts this agent may send a secret to, whatever the workflow (see baton_agent.hosts)."""
    _declared_at: tuple[str, int] = PrivateAttr(("", 0))
    _code_root: str | None = PrivateAttr(None)

    @property
    def declared_at(self) -> tuple[str, int]:
        """The registry file that declares this agent, and its index in that file's `agents`."""
        return self._declared_at

    @property
    def code_root(self) -> str | None:
        """The folder its handler is imported from, as Lambda imports from its package root
        (the declaring registry's `code`; None: the project's functions/)."""
        return self._code_root

    @field_validator("timeout")
    @classmethod
    def _within_lambda(cls, value: float) -> float:
        if value > MAX_AGENT_TIMEOUT_MS:
            raise ValueError(
                f"{format_duration(value)} is over Lambda's longest timeout, 15m (900s)"
            )
        return value

    @property
    def timeout_seconds(self) -> int:
        """The agent's own time budget: its Lambda function's timeout."""
        return max(1, -(-int(self.timeout) // 1000))

    @property
    def task_timeout_seconds(self) -> int:
        """The Task's TimeoutSeconds: strictly longer than the function's timeout."""
        return self.timeout_seconds + TASK_TIMEOUT_MARGIN_SECONDS


class AgentRegistry(DefinitionModel):
    """All agents of a project, looked up by id or name.

    A registry file may `extends:` other registry files (paths relative to it; `baton` names
    the registry shipped with Baton): their agents come first, its own are added. `code:` is
    the folder its agents' handlers are imported from (see baton.definition.registries).
    """

    agents: list[AgentSpec] = Field(default_factory=list)
    extends: list[str] | str | None = None
    code: str | None = None
    _index: dict[int | str, AgentSpec] = PrivateAttr(default_factory=dict)
    _file: str = PrivateAttr("")

    @property
    def file(self) -> str:
        """The file the registry was read from (for problems found later, such as handlers)."""
        return self._file

    @model_validator(mode="after")
    def _unique(self) -> AgentRegistry:
        for agent in self.agents:
            for key in (agent.id, agent.name):
                if key in self._index:
                    kind = "id" if isinstance(key, int) else "name"
                    raise ValueError(f"two agents have the {kind} {key!r}")
                self._index[key] = agent
        return self

    def __iter__(self) -> Iterator[AgentSpec]:  # type: ignore[override]
        return iter(self.agents)

    def find(self, ref: AgentRef) -> AgentSpec | None:
        """The agent an id (int or digits) or a name refers to, or None."""
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        return self._index.get(ref)

    def get(self, name: str) -> AgentSpec:
        agent = self.find(name)
        if agent is None:
            raise KeyError(name)
        return agent
