"""What the agent runtime writes when a step finishes:

- the handoff (under the execution, sorted by finish time);
- the checkpoint "this step is done, with this workflow data" (not for parallel-group members:
  only the whole group completes a step), from which a resumed execution continues at the state
  after that step, so no completed step runs again. A resumed run enters a group again whole:
  each member that an earlier run completed finds its handoff (earlier_handoff) and hands on
  that result instead of running again.

Both go in one transaction, fenced (see DynamoExecutionLog.step_finished): an attempt of a run
that is no longer the execution's current run writes nothing, and the checkpoint never moves
back. The agents' accuracy statistics are updated from the handoffs when the run ends
(baton_service.events), not here. Data is stored as JSON.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from baton_agent import keys
from baton_agent.errors import AttemptAbandonedError

TRANSACTION_ATTEMPTS = 6
PASSING = frozenset({"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"})
"""Why DynamoDB may cancel a transaction this time only (botocore does not retry these)."""


@dataclass(frozen=True)
class StepRecord:
    tenant: str
    execution_id: str
    handoff: Mapping[str, Any]
    checkpoint_after: str | None
    data_after: Mapping[str, Any]
    expires_at: int | None = None
    """Epoch seconds after which DynamoDB may delete both (the workflow's retention)."""
    run: int = 0
    """The run of the execution this attempt belongs to (0: a run no lifecycle manages)."""
    position: int = 0
    """Where the checkpointed step stands in the workflow (later steps stand further on)."""
    item_key: str | None = None
    """A fan-out item's identity (keys.item_key): its handoff is kept under it."""


class ExecutionLog(Protocol):
    def step_finished(self, record: StepRecord) -> None: ...

    def stopped(self, tenant: str, execution_id: str, run: int) -> str | None:
        """Why a step of run `run` must not start (None: it may)."""
        ...

    def earlier_handoff(
        self, tenant: str, execution_id: str, step: str, item_key: str | None = None
    ) -> dict[str, Any] | None:
        """The handoff a run of the execution recorded for `step` when its agent (or its
        alternative) completed it, the latest if several; None when none did. A fan-out's item
        is found by its `item_key` (the same item in the same place of the list)."""
        ...

    def attempt_failed(
        self,
        tenant: str,
        execution_id: str,
        failure: Mapping[str, Any],
        expires_at: int | None,
    ) -> None: ...


def transact(client: Any, items: list[dict[str, Any]]) -> None:
    """TransactWriteItems, sent again (full jitter) while DynamoDB cancels it for a passing
    reason only (PASSING: botocore does not retry these); TransactionCanceledException when a
    condition failed, another reason holds, or the attempts ran out."""
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except client.exceptions.TransactionCanceledException as err:
            codes = {r.get("Code") for r in err.response.get("CancellationReasons", [])}
            passing = PASSING.intersection(codes) and "ConditionalCheckFailed" not in codes
            if not passing or attempt + 1 == TRANSACTION_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class DynamoExecutionLog:
    def __init__(self, executions_table: str, client: Any) -> None:
        self.executions_table = executions_table
        self.client = client

    def step_finished(self, record: StepRecord) -> None:
        """Write the handoff and the checkpoint in one transaction, only if

        - the attempt's run is still the execution's current run (an attempt of a run that was
          superseded by a resume, or a late one of an old run, is not what Step Functions waits
          for); a run stopped by pause or cancel still is: its step did take effect, and a
          resume continues after it instead of repeating its side effect;
        - the checkpoint moves forward: a later run's, or a step further on in the same run.

        The current run is the fence (fence_holds), which the lifecycle writes on the
        checkpoint and on the FENCE item when it makes a resumed run current: a step's
        checkpoint is conditioned on its own fence, a group member's handoff (no checkpoint) on
        the FENCE item. Never on the record, whose size (the input and output it keeps) a
        condition check would bill at every step.

        AttemptAbandonedError (nothing written) when either does not hold.
        """
        pk = {"S": keys.execution_pk(record.tenant, record.execution_id)}
        handoff = record.handoff
        expires = (
            {} if record.expires_at is None else {"expiresAt": {"N": str(int(record.expires_at))}}
        )
        table = self.executions_table
        run = {"N": str(record.run)}
        fence, fence_names = fence_holds(record.run)
        put_handoff = {
            "Put": {
                "TableName": table,
                "Item": {
                    "pk": pk,
                    "sk": {"S": _handoff_sk(record)},
                    "handoff": {"S": to_json(handoff)},
                    **expires,
                },
            }
        }
        if record.checkpoint_after is None:  # a group member: the FENCE item is checked
            items: list[dict[str, Any]] = [
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": pk, "sk": {"S": keys.FENCE}},
                        "ConditionExpression": fence,
                        "ExpressionAttributeNames": fence_names,
                        "ExpressionAttributeValues": {":run": run},
                    }
                },
                put_handoff,
            ]
        else:
            checkpoint = {
                "pk": pk,
                "sk": {"S": keys.CHECKPOINT},
                "after": {"S": record.checkpoint_after},
                "data": {"S": to_json(record.data_after)},
                "run": run,
                keys.FENCE_ATTRIBUTE: run,
                "position": {"N": str(record.position)},
                "updatedAt": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
                **expires,
            }
            items = [
                put_handoff,
                {
                    "Put": {
                        "TableName": table,
                        "Item": checkpoint,
                        "ConditionExpression": f"({fence}) AND (attribute_not_exists(#position) "
                        "OR #run < :run OR (#run = :run AND #position <= :position))",
                        "ExpressionAttributeNames": {
                            **fence_names,
                            "#run": "run",
                            "#position": "position",
                        },
                        "ExpressionAttributeValues": {
                            ":run": run,
                            ":position": {"N": str(record.position)},
                        },
                        # the checkpoint as it stood tells which condition failed
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        try:
            transact(self.client, items)
        except self.client.exceptions.TransactionCanceledException as err:
            reasons = err.response.get("CancellationReasons", [])
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                self._abandoned(handoff, record.run, reasons, err)
            raise

    def stopped(self, tenant: str, execution_id: str, run: int) -> str | None:
        """Why a step of run `run` must not start: the execution was cancelled or paused, or a
        resume made another run the current one (None: it may start). A consistent read, so a
        cancel the API has just answered is seen."""
        item = self.client.get_item(
            TableName=self.executions_table,
            Key={"pk": {"S": keys.execution_pk(tenant, execution_id)}, "sk": {"S": keys.RECORD}},
            ConsistentRead=True,
            ProjectionExpression="#status, #run",
            ExpressionAttributeNames={"#status": "status", "#run": "run"},
        ).get("Item")
        if not item:  # a run no lifecycle manages
            return None
        current = int(item.get("run", {}).get("N", "0"))
        if current != run:
            return f"run {run} is no longer the execution's current run ({current} is)"
        status = item.get("status", {}).get("S")
        if status in ("cancelled", "paused"):
            return f"the execution was {status}"
        return None

    def earlier_handoff(
        self, tenant: str, execution_id: str, step: str, item_key: str | None = None
    ) -> dict[str, Any] | None:
        """See ExecutionLog.earlier_handoff: asked only in a resumed run (never at every step
        of a first run), by a group's member or a fan-out's item. An item reads its own key (a
        GetItem, consistent: a fan-out of 100,000 items reads 100,000 items, not 100,000
        times all of them); a member, one Query of the execution's handoffs (by key,
        consistent), so a group's members read them once per resume."""
        pk = {"S": keys.execution_pk(tenant, execution_id)}
        if item_key is not None:
            item = self.client.get_item(
                TableName=self.executions_table,
                Key={"pk": pk, "sk": {"S": keys.item_handoff_sk(item_key)}},
                ConsistentRead=True,
                ProjectionExpression="#handoff",
                ExpressionAttributeNames={"#handoff": "handoff"},
            ).get("Item")
            handoff = json.loads(item["handoff"]["S"]) if item else None
            return handoff if handoff is not None and completed(handoff, step) else None
        request: dict[str, Any] = {
            "TableName": self.executions_table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :handoffs)",
            "ExpressionAttributeValues": {":pk": pk, ":handoffs": {"S": keys.HANDOFF_PREFIX}},
            "ProjectionExpression": "#handoff",
            "ExpressionAttributeNames": {"#handoff": "handoff"},
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**request)
            for item in page.get("Items", []):
                handoff = json.loads(item["handoff"]["S"])
                if completed(handoff, step):
                    found.append(handoff)
            if "LastEvaluatedKey" not in page:
                return max(found, key=keys.handoff_order, default=None)  # the latest
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def attempt_failed(
        self,
        tenant: str,
        execution_id: str,
        failure: Mapping[str, Any],
        expires_at: int | None,
    ) -> None:
        """Keep a failed attempt of a step, for a run whose history is not read (Express keeps
        none; a Standard run's may be throttled when it ends)."""
        expires = {} if expires_at is None else {"expiresAt": {"N": str(int(expires_at))}}
        sk = keys.failure_sk(str(failure["timestamp"]), str(failure["step"]), failure["attempt"])
        self.client.put_item(
            TableName=self.executions_table,
            Item={
                "pk": {"S": keys.execution_pk(tenant, execution_id)},
                "sk": {"S": sk},
                "failure": {"S": to_json(failure)},
                **expires,
            },
        )

    @staticmethod
    def _abandoned(
        handoff: Mapping[str, Any], run: int, reasons: list[dict[str, Any]], err: Exception
    ) -> None:
        failed = next(r for r in reasons if r.get("Code") == "ConditionalCheckFailed")
        checkpoint = failed.get("Item")  # None: the FENCE item's check failed (or no checkpoint)
        fence = (checkpoint or {}).get(keys.FENCE_ATTRIBUTE, {}).get("N")
        superseded = checkpoint is None or not fenced_in(None if fence is None else int(fence), run)
        why = (
            "its run is no longer the execution's current run"
            if superseded
            else "a later step has been checkpointed already"
        )
        raise AttemptAbandonedError(
            f"step {handoff['step']} (attempt {handoff.get('attempt')}) finished after "
            f"Step Functions moved on: {why}; its result is not recorded"
        ) from err


def _handoff_sk(record: StepRecord) -> str:
    if record.item_key is not None:
        return keys.item_handoff_sk(record.item_key)
    return keys.handoff_sk(str(record.handoff["finishedAt"]), str(record.handoff["step"]))


def completed(handoff: Mapping[str, Any], step: str) -> bool:
    """Whether this handoff shows `step` completed by an agent (a skipped step's handoff, which
    the state machine writes for a failed step, does not)."""
    return handoff.get("step") == step and not handoff.get("skipped") and "data" in handoff


def fence_holds(run: int) -> tuple[str, dict[str, str]]:
    """The condition that `run` is the execution's current run, on an item carrying the fence:
    the fence names it; or there is none (no resume has made a later run current) and the run
    is the first (0: a run no lifecycle manages)."""
    if run <= 1:
        return "attribute_not_exists(#fence) OR #fence = :run", {"#fence": keys.FENCE_ATTRIBUTE}
    return "#fence = :run", {"#fence": keys.FENCE_ATTRIBUTE}


def fenced_in(fence: int | None, run: int) -> bool:
    """fence_holds, in Python."""
    return fence == run if fence is not None else run <= 1
