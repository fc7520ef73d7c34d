"""The executions table as the lifecycle sees it (key design: baton_agent.tables.EXECUTIONS).

Records are stored as plain attributes for what is queried or updated (status, timestamps, the
index keys) and as JSON text for the rest (input, output data, error, metrics).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from baton_agent import keys
from baton_agent.records import to_json, transact
from baton_service import apart
from baton_service.pages import PageTokens

JSON_FIELDS = ("input", "output", "error", "metrics", "runs")
FINISHED_RUN = "finishedRun"
"""The run whose outcome the record holds: each run's outcome is applied once. This mark and
the others hold a run's number (its `run`), not its ARN: a few bytes each, where eight ARNs
made the record over 1 KB, and each of its writes cost 2 write units."""
SETTLED_RUN = "settledRun"
"""The run whose outcome has been told to the world in full (events, notification, archive,
triggers, recovery). An outcome applied (FINISHED_RUN) but not settled was interrupted: the
event's next delivery (EventBridge retries, the DLQ's redrive, `baton repair`) completes it."""
COUNTED_RUN, PUBLISHED_RUN, NOTIFIED_RUN = "countedRun", "publishedRun", "notifiedRun"
"""What each outlet of a run's outcome has done already (statistics, events, notification)."""
SETTLING_UNTIL = "settlingUntil"
"""Until when (epoch seconds) the delivery that applied a run's outcome may still be settling
it: another delivery of the same event meanwhile fails, to be retried, instead of telling the
world a second time; once it has passed (the delivery was killed) the next one takes over."""
SETTLEMENT = frozenset({SETTLED_RUN, COUNTED_RUN, PUBLISHED_RUN, NOTIFIED_RUN, SETTLING_UNTIL})
"""The events handler's bookkeeping: kept in the record's item, never shown as the record."""
HIDDEN = SETTLEMENT | apart.FLAGS
"""What the record's item holds for Baton's own use: never shown as the record."""


def _record_key(tenant: str, execution_id: str) -> dict[str, Any]:
    return {"pk": {"S": keys.execution_pk(tenant, execution_id)}, "sk": {"S": keys.RECORD}}


def _to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in record.items():
        if value is None:
            continue
        if name in JSON_FIELDS:
            item[name] = {"S": to_json(value)}
        elif isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int | float):
            item[name] = {"N": repr(value)}
        else:
            item[name] = {"S": str(value)}
    return item


def shown(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as its readers see it: without the events handler's bookkeeping, nor the
    flags of the values it keeps apart (baton_service.apart)."""
    return {k: v for k, v in record.items() if k not in HIDDEN}


def record_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the lifecycle reads it, from its DynamoDB item."""
    return _from_item(item)


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in item.items():
        if name in ("pk", "sk", "workflowKey", "statusKey", "tenantKey"):
            continue
        kind, raw = next(iter(value.items()))
        if name in JSON_FIELDS:
            record[name] = json.loads(raw)
        elif kind == "N":
            number = float(raw)
            record[name] = int(number) if number.is_integer() else number
        else:
            record[name] = raw
    return record


@dataclass(frozen=True)
class ExecutionItems:
    """What an execution's partition holds: its record (None: no such execution), its
    handoffs in the order they finished, its checkpoint, and the failed attempts its Express
    runs' agents recorded (baton_agent.records), in the order they failed."""

    record: dict[str, Any] | None
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)


def _checkpoint_from_item(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The checkpoint an item holds; None when it holds only the fence (a resume made a run
    current before any step was checkpointed: ExecutionStore.make_current)."""
    if "after" not in item:
        return None
    return {"after": item["after"]["S"], "data": json.loads(item["data"]["S"])}


class ExecutionStore:
    """Reads and writes execution records, handoffs, checkpoints and idempotency claims."""

    def __init__(self, table: str, client: Any, tokens: PageTokens | None = None) -> None:
        self.table = table
        self.client = client
        self.tokens = tokens or PageTokens()

    # records ---------------------------------------------------------------------------
    def create(self, record: Mapping[str, Any], claim_key: str | None = None) -> dict[str, str]:
        """Write a new record; with `claim_key`, claim that idempotency key in the same
        transaction. Returns the claim that holds: ours, or (the key was taken) the earlier
        one, whose record then exists too."""
        tenant, execution_id = record["tenant"], record["executionId"]
        item = self._record_item(tenant, execution_id, {**record, "input": None})
        if apart.input_apart(item, record.get("input")):
            # written first: a record never flags an input that is not there
            pk = keys.execution_pk(tenant, execution_id)
            kept = apart.apart_item(pk, keys.INPUT, record["input"], record.get("expiresAt"))
            self.client.put_item(TableName=self.table, Item=kept)
            item[apart.INPUT_FLAG] = {"BOOL": True}
        else:
            item |= _to_item({"input": record.get("input")})
        claim = {"executionId": execution_id, "inputHash": str(record.get("inputHash", ""))}
        if claim_key is None:
            self.client.put_item(TableName=self.table, Item=item)
            return claim
        claim_item = {
            "pk": {"S": keys.idempotency_pk(tenant, record["workflowId"], claim_key)},
            "sk": {"S": keys.RECORD},
            "executionId": {"S": execution_id},
            "inputHash": {"S": claim["inputHash"]},
            "expiresAt": item["expiresAt"],
        }
        new = "attribute_not_exists(pk)"
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": claim_item,
                            "ConditionExpression": new,
                        }
                    },
                    {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": new}},
                ]
            )
            return claim
        except self.client.exceptions.TransactionCanceledException:
            held = self.client.get_item(
                TableName=self.table,
                Key={"pk": claim_item["pk"], "sk": claim_item["sk"]},
                ConsistentRead=True,
            ).get("Item")
            if held is None:
                raise  # cancelled for another reason: nothing was written
            return {"executionId": held["executionId"]["S"], "inputHash": held["inputHash"]["S"]}

    def release_claim(
        self, tenant: str, workflow_id: str, claim_key: str, execution_id: str
    ) -> None:
        """Give the key back (its start failed): a retry with it may start afresh."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.delete_item(
                TableName=self.table,
                Key={
                    "pk": {"S": keys.idempotency_pk(tenant, workflow_id, claim_key)},
                    "sk": {"S": keys.RECORD},
                },
                ConditionExpression="executionId = :e",
                ExpressionAttributeValues={":e": {"S": execution_id}},
            )

    def get(self, tenant: str, execution_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key=_record_key(tenant, execution_id),
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        record = _from_item(item)
        if apart.FLAGS.intersection(record):  # its input or output, kept apart: one more read
            request = {
                "TableName": self.table,
                # INPUT, then OUTPUT#<run> for each run that gave one ('$' follows '#')
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :input AND :outputs",
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.execution_pk(tenant, execution_id)},
                    ":input": {"S": keys.INPUT},
                    ":outputs": {"S": keys.OUTPUT_PREFIX[:-1] + "$"},
                },
                "ConsistentRead": True,
            }
            kept = {i["sk"]["S"]: i for i in self._pages(request)}
            record = apart.merged(record, kept)
        return record

    def update(
        self,
        tenant: str,
        execution_id: str,
        changes: Mapping[str, Any],
        *,
        only_if_status: tuple[str, ...] = (),
        once_for_run: int | None = None,
    ) -> bool:
        """Set fields of a record; with `only_if_status`, only while the status is one of those;
        with `once_for_run` (a run's number), only if no outcome of that run was applied yet (an
        event delivered twice is applied once). An `output` (a run's outcome: with
        `once_for_run`) is kept in an item of its own, under the run's key (baton_service.apart),
        written first: the record flags it only if its own write's conditions hold.

        Returns False when a condition did not hold (nothing changed).
        """
        if changes.get("output") is not None:
            if once_for_run is None:
                raise ValueError("an output is a run's outcome: give once_for_run")
            pk = keys.execution_pk(tenant, execution_id)
            sk = keys.output_sk(once_for_run)
            output = apart.apart_item(pk, sk, changes["output"], changes.get("expiresAt"))
            self.client.put_item(TableName=self.table, Item=output)
            changes = {**changes, "output": None, apart.OUTPUT_FLAG: once_for_run}
        return self._update(tenant, execution_id, changes, only_if_status, once_for_run) is not None

    def updated(self, tenant: str, execution_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Set fields of a record and answer with the whole record as the write left it (but
        the values it keeps apart): a write and its read in one request (ReturnValues, which
        DynamoDB bills no read for)."""
        attributes = self._update(tenant, execution_id, changes, (), None, answer=True)
        return _from_item(attributes or {})

    def make_current(
        self,
        tenant: str,
        execution_id: str,
        changes: Mapping[str, Any],
        *,
        run: int,
        only_if_status: tuple[str, ...],
    ) -> bool:
        """Set fields of a record that make run `run` (a resume's, after the first) the
        execution's current run, only while the status is one of `only_if_status`; in the same
        transaction, move the fence to it (on the checkpoint, created bare when no step has
        been checkpointed yet, and on the FENCE item): from then on only its attempts record
        steps (baton_agent.records). False when the status did not hold (nothing changed)."""
        pk = {"S": keys.execution_pk(tenant, execution_id)}
        fence = {"N": str(run)}
        expires = changes.get("expiresAt")
        kept = {} if expires is None else {"expiresAt": {"N": str(int(expires))}}
        update = self._update_request(tenant, execution_id, changes, only_if_status, None)
        items = [
            {"Update": update},
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": pk, "sk": {"S": keys.CHECKPOINT}},
                    "UpdateExpression": "SET "
                    + ", ".join(f"#{name} = :{name}" for name in ("fence", *kept)),
                    "ExpressionAttributeNames": {
                        "#fence": keys.FENCE_ATTRIBUTE,
                        **{f"#{name}": name for name in kept},
                    },
                    "ExpressionAttributeValues": {
                        ":fence": fence,
                        **{f":{name}": value for name, value in kept.items()},
                    },
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": pk,
                        "sk": {"S": keys.FENCE},
                        keys.FENCE_ATTRIBUTE: fence,
                        **kept,
                    },
                }
            },
        ]
        try:  # sent again after a conflict with a late agent's write of the checkpoint
            transact(self.client, items)
        except self.client.exceptions.TransactionCanceledException as err:
            codes = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def _update(
        self,
        tenant: str,
        execution_id: str,
        changes: Mapping[str, Any],
        only_if_status: tuple[str, ...],
        once_for_run: int | None,
        *,
        answer: bool = False,
    ) -> dict[str, Any] | None:
        """The UpdateItem of `update`: the new item's attributes with `answer` (else {}), None
        when a condition did not hold."""
        request = self._update_request(tenant, execution_id, changes, only_if_status, once_for_run)
        if answer:
            request["ReturnValues"] = "ALL_NEW"
        try:
            written = self.client.update_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return dict(written.get("Attributes") or {})

    def _update_request(
        self,
        tenant: str,
        execution_id: str,
        changes: Mapping[str, Any],
        only_if_status: tuple[str, ...],
        once_for_run: int | None,
    ) -> dict[str, Any]:
        """The request that sets `changes` in a record under its conditions (see `update`)."""
        if once_for_run is not None:
            changes = {**changes, FINISHED_RUN: once_for_run}
        values = _to_item(changes)
        if "status" in changes:
            values["statusKey"] = {"S": keys.status_key(tenant, str(changes["status"]))}
        removed = [name for name, value in changes.items() if value is None]
        names = {f"#f{i}": name for i, name in enumerate([*values, *removed])}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        if removed:
            start = len(values)
            expression += " REMOVE " + ", ".join(f"#f{start + i}" for i in range(len(removed)))
        attribute_values = {f":v{i}": value for i, value in enumerate(values.values())}
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": _record_key(tenant, execution_id),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attribute_values,
        }
        conditions = []
        if only_if_status:
            names["#status"] = "status"
            placeholders = []
            for i, status in enumerate(only_if_status):
                attribute_values[f":s{i}"] = {"S": status}
                placeholders.append(f":s{i}")
            conditions.append(f"#status IN ({', '.join(placeholders)})")
        if once_for_run is not None:
            names["#finished"] = FINISHED_RUN
            attribute_values[":finished"] = {"N": str(once_for_run)}
            conditions.append("(attribute_not_exists(#finished) OR #finished <> :finished)")
        if conditions:
            request["ConditionExpression"] = " AND ".join(conditions)
        return request

    def mark_once(self, tenant: str, execution_id: str, field: str, run: int, *also: str) -> bool:
        """Set `field` (and the fields `also`, in the same write) to the run's number unless
        `field` holds it already: True the first time only (an at-least-once delivery acts
        once)."""
        others = {f"#a{i}": name for i, name in enumerate(also)}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_record_key(tenant, execution_id),
                UpdateExpression="SET " + ", ".join(f"{n} = :v" for n in ["#f", *others]),
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#f) OR #f <> :v)",
                ExpressionAttributeNames={"#f": field, **others},
                ExpressionAttributeValues={":v": {"N": str(run)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def move_lease(
        self, tenant: str, execution_id: str, held: int | None, until: int | None
    ) -> bool:
        """Move the settling lease (SETTLING_UNTIL) from `held` (None: there is none) to `until`
        (None: released), if it still is `held`: True when it moved (one delivery wins)."""
        names = {"#l": SETTLING_UNTIL}
        values: dict[str, Any] = {}
        if until is None:
            expression = "REMOVE #l"
        else:
            expression, values[":u"] = "SET #l = :u", {"N": str(until)}
        if held is None:
            condition = "attribute_exists(pk) AND attribute_not_exists(#l)"
        else:
            condition, values[":h"] = "#l = :h", {"N": str(held)}
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": _record_key(tenant, execution_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self.client.update_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def list_executions(
        self,
        tenant: str,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        limit: int = 20,
        next_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Summaries of records (tables.LISTED: what the indexes hold), newest first; filter by
        workflow and/or status; paginate with the returned token (pages.PageTokens: valid only
        for this tenant and these filters)."""
        if workflow_id:
            index, key, value = "byWorkflow", "workflowKey", keys.workflow_key(tenant, workflow_id)
        elif status:
            index, key, value = "byStatus", "statusKey", keys.status_key(tenant, status)
        else:
            index, key, value = "byTenant", "tenantKey", keys.tenant_key(tenant)
        listing = (tenant, index, value, status or "")
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if workflow_id and status:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"]["#status"] = "status"
            request["ExpressionAttributeValues"][":status"] = {"S": status}
        if next_token:
            execution_id, start_time = self.tokens.read(listing, next_token)
            request["ExclusiveStartKey"] = {
                "pk": {"S": keys.execution_pk(tenant, execution_id)},
                "sk": {"S": keys.RECORD},
                key: {"S": value},
                "startTime": {"S": start_time},
            }
        page = self.client.query(**request)
        token = None
        last = page.get("LastEvaluatedKey")
        if last:
            execution_id = last["pk"]["S"].rpartition("#")[2]
            token = self.tokens.issue(listing, execution_id, last["startTime"]["S"])
        return [shown(_from_item(item)) for item in page.get("Items", [])], token

    # handoffs and checkpoints -----------------------------------------------------------
    def items(self, tenant: str, execution_id: str) -> ExecutionItems:
        """The execution's items (ExecutionItems) in one consistent Query of its partition:
        one request (a page per MB), billed for the items' sizes summed, where reading the
        record, handoffs and checkpoint apart takes three, each rounded up to 4 KB."""
        request: dict[str, Any] = {
            "TableName": self.table,
            # from CHECKPOINT to RECORD, which sort first and last of these items: not what an
            # agent stashed in the partition (STASH#..., up to 400 KB each)
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.execution_pk(tenant, execution_id)},
                ":first": {"S": keys.CHECKPOINT},
                ":last": {"S": keys.RECORD},
            },
            "ConsistentRead": True,
        }
        record, handoffs, checkpoint, failures = None, [], None, []
        kept: dict[str, dict[str, Any]] = {}
        for item in self._pages(request):
            sk = item["sk"]["S"]
            if sk == keys.RECORD:
                record = _from_item(item)
            elif apart.is_apart(sk):
                kept[sk] = item
            elif sk == keys.CHECKPOINT:
                checkpoint = _checkpoint_from_item(item)
            elif sk.startswith(keys.HANDOFF_PREFIX):
                handoffs.append(json.loads(item["handoff"]["S"]))
            elif sk.startswith(keys.FAILURE_PREFIX):
                failures.append(json.loads(item["failure"]["S"]))
        if record is not None:
            record = apart.merged(record, kept)
        handoffs.sort(key=keys.handoff_order)  # a fan-out item's key is not its finish time
        return ExecutionItems(record, handoffs, checkpoint, failures)

    def checkpoint(self, tenant: str, execution_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={
                "pk": {"S": keys.execution_pk(tenant, execution_id)},
                "sk": {"S": keys.CHECKPOINT},
            },
            ConsistentRead=True,
        ).get("Item")
        return _checkpoint_from_item(item) if item else None

    # internals -------------------------------------------------------------------------
    def _record_item(
        self, tenant: str, execution_id: str, record: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The record's item: its fields, its key and its index keys."""
        item = _to_item(record) | self._index_keys(tenant, record["workflowId"], record["status"])
        return item | _record_key(tenant, execution_id)

    @staticmethod
    def _index_keys(tenant: str, workflow_id: str, status: str) -> dict[str, Any]:
        return {
            "workflowKey": {"S": keys.workflow_key(tenant, workflow_id)},
            "statusKey": {"S": keys.status_key(tenant, status)},
            "tenantKey": {"S": keys.tenant_key(tenant)},
        }

    def _pages(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item a Query matches, page after page."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**request)
            items += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
