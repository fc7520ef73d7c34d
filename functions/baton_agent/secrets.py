"""Secrets by reference: workflow data names a secret; the value lives only in agent memory.

Values are fetched from Secrets Manager on first use and kept per container for a few minutes.
The runtime refuses an agent result that contains a value it resolved (SecretLeakError), so a
secret cannot reach the workflow data, the execution history, records or events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from baton_agent.errors import AgentError, AgentInputError

PERMANENT = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
        "ValidationException",
    }
)
"""Secrets Manager answers another attempt would get again. Anything else (throttling, an
internal error, a network fault) is passing."""


class SecretNotFoundError(AgentInputError):
    """The referenced secret does not exist (or cannot be read): retrying cannot help."""


class SecretUnavailableError(AgentError):
    """Secrets Manager could not answer this time (throttled, unavailable): the step is retried."""


class SecretResolver(Protocol):
    def resolve(self, name: str) -> str: ...


class SecretsManagerResolver:
    """GetSecretValue with a per-container cache (`ttl_seconds`), as Lambda extensions do."""

    def __init__(self, client_factory: Callable[[], Any], ttl_seconds: float = 300) -> None:
        self.client_factory = client_factory
        self.ttl_seconds = ttl_seconds
        self.values: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def resolve(self, name: str) -> str:
        with self.lock:
            cached = self.values.get(name)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        try:
            value = self.client_factory().get_secret_value(SecretId=name)["SecretString"]
        except Exception as err:
            code = getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)
            if code in PERMANENT:
                raise SecretNotFoundError(f"secret {name!r} cannot be read ({code})") from None
            raise SecretUnavailableError(
                f"secret {name!r} could not be read this time ({code}); the step is retried"
            ) from None
        with self.lock:
            self.values[name] = (value, time.monotonic() + self.ttl_seconds)
        return str(value)
