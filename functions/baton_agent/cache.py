"""The result cache: canonical keys, TTL checked on read, tenant-scoped by construction.

The key is the sha256 of the canonical JSON (sorted keys) of the tenant, the agent and its
version, and the agent's input (or only the input fields its cache policy lists). A result is
stored as JSON text, so any data shape fits and floats need no Decimal conversion.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CachePolicy:
    """A step's cache settings, as the compiled state machine passes them."""

    ttl_seconds: int
    key_fields: tuple[str, ...] | None
    version: str

    @classmethod
    def from_payload(cls, value: Mapping[str, Any] | None) -> CachePolicy | None:
        if not value:
            return None
        fields = value.get("key")
        return cls(
            int(value["ttl"]), tuple(fields) if fields else None, str(value.get("version", "1"))
        )


@dataclass(frozen=True)
class CachedResult:
    data: dict[str, Any]
    accuracy: float
    stored_at: float


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(tenant: str, agent: str, policy: CachePolicy, data: Mapping[str, Any]) -> str:
    """Same tenant, agent, version and (selected) input → same key; anything else differs."""
    selected: Any = (
        dict(data) if policy.key_fields is None else {f: data.get(f) for f in policy.key_fields}
    )
    material = {"tenant": tenant, "agent": agent, "version": policy.version, "input": selected}
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


class ResultCache(Protocol):
    def get(self, key: str) -> CachedResult | None: ...

    def put(
        self, key: str, result: CachedResult, ttl_seconds: int, *, agent: str, tenant: str
    ) -> None: ...


class DynamoResultCache:
    """The cache table (see tables.CACHE): `expiresAt` is DynamoDB's TTL attribute (seconds),
    `expiresAtMs` the exact expiry a read checks."""

    def __init__(self, table: str, client: Any, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.client = client
        self.clock = clock

    def get(self, key: str) -> CachedResult | None:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        expires_ms = int(
            item.get("expiresAtMs", {"N": str(int(item["expiresAt"]["N"]) * 1000)})["N"]
        )
        if self.clock() * 1000 >= expires_ms:
            return None  # expired to the millisecond, even before DynamoDB deletes it
        result = json.loads(item["result"]["S"])
        return CachedResult(result["data"], float(result["accuracy"]), float(item["storedAt"]["N"]))

    def put(
        self, key: str, result: CachedResult, ttl_seconds: int, *, agent: str, tenant: str
    ) -> None:
        now = self.clock()
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": key},
                "agent": {"S": agent},
                "tenant": {"S": tenant},
                "result": {"S": canonical_json({"data": result.data, "accuracy": result.accuracy})},
                "storedAt": {"N": repr(now)},
                # the hit check reads milliseconds; DynamoDB's TTL (whole seconds) never
                # deletes an item before then
                "expiresAtMs": {"N": str(math.ceil((now + ttl_seconds) * 1000))},
                "expiresAt": {"N": str(math.ceil(now + ttl_seconds))},
            },
        )


class MemoryResultCache:
    """An in-memory cache with the same semantics, for unit tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.items: dict[str, tuple[CachedResult, float]] = {}
        self.clock = clock

    def get(self, key: str) -> CachedResult | None:
        entry = self.items.get(key)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(
        self, key: str, result: CachedResult, ttl_seconds: int, *, agent: str, tenant: str
    ) -> None:
        self.items[key] = (result, self.clock() + ttl_seconds)
