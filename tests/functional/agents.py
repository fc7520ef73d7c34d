"""Test agents with controllable behaviour, built on the real agent runtime."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from baton_agent import AgentContext, AgentError, AgentResult, agent


@dataclass
class Calls:
    """What the test agents saw, in call order (thread-safe: Map members run concurrently)."""

    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **entry: Any) -> None:
        with self.lock:
            self.log.append(entry)

    def agents(self) -> list[str]:
        return [e["agent"] for e in self.log]

    def count(self, name: str) -> int:
        return sum(1 for e in self.log if e["agent"] == name)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["agent"] == name]


def echo(
    calls: Calls,
    name: str,
    *,
    accuracy: float = 100,
    sleep: float = 0.0,
    fail_times: int = 0,
    always_fail: bool = False,
    error: type[Exception] = AgentError,
    failing_items: int = 0,
    **runtime: Any,
):
    """An agent that records its call, optionally sleeps or fails, and adds `{name: n}` to the data.

    `runtime` goes to the `agent` decorator (a cache with a fake clock, say). Run for each item
    of a list (a fan-out), it counts attempts per item (`fail_times`) and fails every attempt
    of the first `failing_items` items.
    """
    attempts = {"n": 0}

    @agent(**runtime)
    def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
        attempts["n"] += 1
        started = time.monotonic()
        if sleep:
            time.sleep(sleep)
        calls.add(
            agent=name,
            attempt=context.attempt,
            data=dict(data),
            started=started,
            ended=time.monotonic(),
            replaces=context.replaces,
        )
        if context.index is not None:
            failing = context.index < failing_items or context.attempt <= fail_times
        else:
            failing = always_fail or attempts["n"] <= fail_times
        if failing:
            raise error(f"{name} failed on attempt {attempts['n']}")
        trail = list(data.get("trail", []))
        return AgentResult(data={name: attempts["n"], "trail": [*trail, name]}, accuracy=accuracy)

    return handler


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for `condition` (another thread's progress), failing the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
