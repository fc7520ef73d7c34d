"""What the agent runtime writes when a step finishes:

- the handoff (under the execution, sorted by finish time);
- the checkpoint "this step is done, with this workflow data" (not for parallel-group members:
  only the whole group completes a step), from which a resumed execution continues at the state
  after that step, so no completed step runs again.

Both go in one BatchWriteItem: one round trip a step (each write is idempotent, so no
transaction is needed). The agents' accuracy statistics are updated from the handoffs when the
run ends (baton_service.events), not here. Data is stored as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from baton_agent import keys


@dataclass(frozen=True)
class StepRecord:
    tenant: str
    execution_id: str
    handoff: Mapping[str, Any]
    checkpoint_after: str | None
    data_after: Mapping[str, Any]
    expires_at: int | None = None
    """Epoch seconds after which DynamoDB may delete both (the workflow's retention)."""


class ExecutionLog(Protocol):
    def step_finished(self, record: StepRecord) -> None: ...


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class DynamoExecutionLog:
    def __init__(self, executions_table: str, client: Any) -> None:
        self.executions_table = executions_table
        self.client = client

    def step_finished(self, record: StepRecord) -> None:
        pk = {"S": keys.execution_pk(record.tenant, record.execution_id)}
        handoff = record.handoff
        puts: list[dict[str, Any]] = [
            {
                "pk": pk,
                "sk": {"S": keys.handoff_sk(str(handoff["finishedAt"]), str(handoff["step"]))},
                "handoff": {"S": to_json(handoff)},
            }
        ]
        if record.checkpoint_after is not None:
            puts.append(
                {
                    "pk": pk,
                    "sk": {"S": keys.CHECKPOINT},
                    "after": {"S": record.checkpoint_after},
                    "data": {"S": to_json(record.data_after)},
                    "updatedAt": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
                }
            )
        if record.expires_at is not None:
            for item in puts:
                item["expiresAt"] = {"N": str(int(record.expires_at))}
        requests = {self.executions_table: [{"PutRequest": {"Item": item}} for item in puts]}
        while requests:
            unprocessed = self.client.batch_write_item(RequestItems=requests)
            requests = unprocessed.get("UnprocessedItems") or {}


def accuracy_update(table: str, agent: str, accuracy: float) -> dict[str, Any]:
    """The agent-stats update: ADD one call and the accuracy, SET the last accuracy."""
    return {
        "TableName": table,
        "Key": {"pk": {"S": f"AGENT#{agent}"}},
        "UpdateExpression": "ADD calls :one, accuracySum :accuracy SET lastAccuracy = :accuracy",
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":accuracy": {"N": repr(float(accuracy))},
        },
    }
