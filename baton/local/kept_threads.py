"""Threads kept for the next call once their call returns: starting a thread costs more than a
small call (about 120 µs on a 2-core machine), and the offline runtime started two per step."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

KEPT = 4
"""Idle threads kept per set for its next calls (more are started when all are busy)."""

Inbox = queue.SimpleQueue[Callable[[], None] | None]


class KeptThreads:
    """Threads that run calls, each kept for a next call once its call returns; a thread whose
    call is still running takes no other (a call may outlive its caller's wait: the late attempt
    of a timed-out invocation)."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self._idle: list[Inbox] = []
        self._lock = threading.Lock()
        self._closed = False

    def run(self, call: Callable[[], None]) -> None:
        """Run `call` in an idle thread, or a new one."""
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._serve, args=(inbox,), name=self.thread_name, daemon=True
            ).start()
        inbox.put(call)

    def _serve(self, inbox: Inbox) -> None:
        while (call := inbox.get()) is not None:
            call()
            with self._lock:
                if self._closed or len(self._idle) >= KEPT:
                    return
                self._idle.append(inbox)

    def close(self) -> None:
        """End the idle threads; a busy one ends when its call returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for inbox in idle:
            inbox.put(None)


class KeptThread:
    """What `threading.Thread(target=..., daemon=True)` gives, its target run by kept threads:
    start, is_alive, join."""

    def __init__(
        self,
        threads: KeptThreads,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        daemon: bool | None = True,
        name: str | None = None,
    ) -> None:
        self.threads = threads
        self.target, self.args, self.kwargs = target, args, kwargs or {}
        self.daemon, self.name = daemon, name or threads.thread_name
        self._started, self._ended = False, threading.Event()

    def start(self) -> None:
        self._started = True
        self.threads.run(self._run)

    def _run(self) -> None:
        try:
            self.target(*self.args, **self.kwargs)
        finally:
            self._ended.set()

    def is_alive(self) -> bool:
        return self._started and not self._ended.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._ended.wait(timeout)
