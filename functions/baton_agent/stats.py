"""Rolling accuracy per agent (the reference registry's `updateAccuracy`), kept in agent-stats.

The events handler adds a run's handoffs once the run has ended (baton_service.events); the
agent runtime adds a result the accuracy gate refused, at once.
"""

from __future__ import annotations

from typing import Any, Protocol

from baton_agent.records import accuracy_update


class AccuracyStats(Protocol):
    def record(self, agent: str, *accuracies: float) -> None:
        """Add calls of `agent` with these accuracies, the last one last."""


class DynamoAccuracyStats:
    """Atomic ADD of calls and accuracy sum: concurrent invocations never lose an update."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def record(self, agent: str, *accuracies: float) -> None:
        self.client.update_item(**accuracy_update(self.table, agent, *accuracies))

    def rolling_accuracy(self, agent: str) -> float | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": f"AGENT#{agent}"}}).get(
            "Item"
        )
        if not item:
            return None
        return float(item["accuracySum"]["N"]) / float(item["calls"]["N"])

    def summaries(self, agents: list[str]) -> dict[str, dict[str, float]]:
        """{agent: {calls, rollingAccuracy, lastAccuracy}} for the agents that have run."""
        found: dict[str, dict[str, float]] = {}
        for start in range(0, len(agents), 100):
            keys = [{"pk": {"S": f"AGENT#{name}"}} for name in agents[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys}}
            while request:
                page = self.client.batch_get_item(RequestItems=request)
                for item in page.get("Responses", {}).get(self.table, []):
                    calls = float(item["calls"]["N"])
                    found[item["pk"]["S"].removeprefix("AGENT#")] = {
                        "calls": int(calls),
                        "rollingAccuracy": float(item["accuracySum"]["N"]) / calls,
                        "lastAccuracy": float(item["lastAccuracy"]["N"]),
                    }
                request = page.get("UnprocessedKeys") or {}
        return found
