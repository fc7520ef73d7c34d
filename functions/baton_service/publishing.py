"""Baton's events on EventBridge ("Workflow Started", "Agent Completed", ...): how an entry is
made, and how entries are put so that none is lost without an error.

PutEvents takes at most 10 entries a request and may refuse some of them while accepting the
rest (its answer counts them in `FailedEntryCount`, the request itself succeeds): the refused
ones are put again, with backoff, and if some are still refused an error is raised, so the
caller's delivery fails and is retried instead of marking the events published.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from baton_agent.records import to_json

SOURCE = "baton"
ENTRIES_PER_REQUEST = 10
"""PutEvents' limit."""
PUT_ATTEMPTS = 4
"""Attempts at entries PutEvents refuses (its throttling and internal failures pass)."""


class EventsNotPublishedError(RuntimeError):
    """PutEvents kept refusing some entries."""


class EventPublisher:
    """Puts Baton's events on its bus; without a client or a bus it publishes nothing (a
    deployment or an offline runtime without events)."""

    def __init__(
        self,
        events: Any = None,
        bus: str | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.events = events
        self.bus = bus or None
        self.sleep = sleep

    def entry(
        self, kind: str, record: Mapping[str, Any], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        detail = {
            "executionId": record["executionId"],
            "tenant": record["tenant"],
            "workflowId": record["workflowId"],
            **extra,
        }
        return {
            "Source": SOURCE,
            "DetailType": kind,
            "Detail": to_json(detail),
            "EventBusName": self.bus,
        }

    def publish(self, entries: list[dict[str, Any]]) -> None:
        """Put every entry, in order, 10 a request; EventsNotPublishedError when PutEvents still
        refuses some after PUT_ATTEMPTS (those accepted stay published)."""
        if self.events is None or not self.bus:
            return
        for start in range(0, len(entries), ENTRIES_PER_REQUEST):
            self._put(entries[start : start + ENTRIES_PER_REQUEST])

    def _put(self, entries: list[dict[str, Any]]) -> None:
        pending = entries
        for attempt in range(PUT_ATTEMPTS):
            answer = self.events.put_events(Entries=pending)
            if not answer.get("FailedEntryCount"):
                return
            results = answer.get("Entries") or []
            refused = [(e, r) for e, r in zip(pending, results, strict=False) if r.get("ErrorCode")]
            if len(results) != len(pending):  # no per-entry answer: put them all again
                refused = [(e, {}) for e in pending]
            pending = [e for e, _ in refused]
            if attempt + 1 < PUT_ATTEMPTS:
                self.sleep(random.uniform(0, 0.1 * 2**attempt))  # full jitter
        codes = sorted({str(r.get("ErrorCode")) for _, r in refused})
        kinds = sorted({str(e.get("DetailType")) for e in pending})
        raise EventsNotPublishedError(
            f"EventBridge refused {len(pending)} event(s) ({', '.join(kinds)}) "
            f"{PUT_ATTEMPTS} times: {', '.join(codes)}"
        )
