"""How many index writes DynamoDB bills for a write to the executions table, from the request.

moto keeps the indexes but bills nothing, so the offline meter (baton.local.metering) counts
them here, by DynamoDB's rules for a global secondary index: an item put with an index's keys
is one write to it; an update of an item the index holds is one write to it when the update
sets or removes an attribute the index holds (its keys, the table's, what it projects), two
when that attribute is one of the index's keys (the old entry deleted, the new one put); a
write that changes nothing the index holds costs it nothing. Only records (sort key RECORD)
carry the index keys, and each carries all of them (baton_agent.tables.EXECUTIONS).

What an update sets or removes is read from its expression's attribute-name placeholders
(`#f0`), which is how Baton's code names every attribute it updates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from baton_agent import keys
from baton_agent.tables import EXECUTIONS, TableSpec

PLACEHOLDER = re.compile(r"#\w+")


def _updated_attributes(update: Mapping[str, Any]) -> set[str]:
    names = update.get("ExpressionAttributeNames") or {}
    used = PLACEHOLDER.findall(str(update.get("UpdateExpression", "")))
    return {names.get(placeholder, placeholder) for placeholder in used}


def _update_writes(update: Mapping[str, Any], spec: TableSpec) -> int:
    if (update.get("Key") or {}).get(spec.sort_key or "", {}).get("S") != keys.RECORD:
        return 0
    changed = _updated_attributes(update)
    table_keys = tuple(k for k in (spec.partition_key, spec.sort_key) if k)
    writes = 0
    for index in spec.indexes:
        if changed & set(index.holds(table_keys)):
            writes += 1
            if changed & {index.partition_key, index.sort_key}:
                writes += 1
    return writes


def _put_writes(item: Mapping[str, Any], spec: TableSpec) -> int:
    return sum(1 for index in spec.indexes if index.partition_key in item)


def index_writes(operation: str, request: Mapping[str, Any], spec: TableSpec = EXECUTIONS) -> int:
    """The index writes of a successful `operation` (`PutItem`, `UpdateItem`,
    `TransactWriteItems`) with this request body."""
    if operation == "PutItem":
        return _put_writes(request.get("Item") or {}, spec)
    if operation == "UpdateItem":
        return _update_writes(request, spec)
    if operation == "TransactWriteItems":
        return sum(_transaction_item_writes(request.get("TransactItems") or (), spec))
    return 0


def _transaction_item_writes(items: Iterable[Mapping[str, Any]], spec: TableSpec) -> Iterable[int]:
    for item in items:
        if "Put" in item:
            yield _put_writes(item["Put"].get("Item") or {}, spec)
        elif "Update" in item:
            yield _update_writes(item["Update"], spec)
