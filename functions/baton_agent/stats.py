"""Rolling accuracy per agent (the reference registry's `updateAccuracy`), kept in agent-stats."""

from __future__ import annotations

from typing import Any, Protocol


class AccuracyStats(Protocol):
    def record(self, agent: str, accuracy: float) -> None: ...


class DynamoAccuracyStats:
    """Atomic ADD of calls and accuracy sum: concurrent invocations never lose an update."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def record(self, agent: str, accuracy: float) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"AGENT#{agent}"}},
            UpdateExpression="ADD calls :one, accuracySum :accuracy SET lastAccuracy = :accuracy",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":accuracy": {"N": repr(float(accuracy))},
            },
        )

    def rolling_accuracy(self, agent: str) -> float | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": f"AGENT#{agent}"}}).get(
            "Item"
        )
        if not item:
            return None
        return float(item["accuracySum"]["N"]) / float(item["calls"]["N"])
