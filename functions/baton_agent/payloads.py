"""Claim check: large values travel as references to S3 objects, not inside the data.

Step Functions carries at most 256 KiB between states and DynamoDB keeps at most 400 KB per
item, while an agent may return megabytes. Above a budget (default 200 KiB of UTF-8 JSON), the
largest top-level values of the workflow data are written to the payload bucket and replaced by
a reference `{"$batonRef": "<tenant>/<sha256>", "bytes": <n>}`; the agent runtime resolves
references before an agent sees the data, so agents always get whole values.

- Keys are content addressed: a retried attempt writes the same object (nothing to clean up),
  and the digest in the key is checked when the object is read back (a corrupted or swapped
  object is refused, never handed on).
- Keys are tenant scoped and the bucket comes from the deployment: a reference resolves only
  under the run's own tenant, so data naming another tenant's object gets nothing.
- Objects carry the workflow's retention (the RETENTION_TAG), which the bucket's lifecycle
  rules expire, as the records and archive are.
- Fields a condition reads, and a fan-out's list, stay inline (Choice and Map states read the
  data in Step Functions, where a reference cannot be resolved): the compiler lists them in
  the run context (`inline`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from baton_agent.errors import PayloadReferenceError, PayloadStoreError, PayloadTooLargeError

REF = "$batonRef"
BUDGET_BYTES = 200 * 1024
"""The most workflow data (UTF-8 JSON) that travels inline: what is left of Step Functions'
256 KiB goes to the rest of the payload (context, config, meta)."""
RECORD_BYTES = 100 * 1024
"""The most an execution record keeps inline of its input, and of its output (DynamoDB items
hold at most 400 KB)."""
RETENTION_TAG = "baton-retention-days"
"""Archived records and stored payloads carry their workflow's retention in days; the buckets'
lifecycle rules (one per retention the deployment uses) expire them when it has passed."""
MIN_MOVABLE_BYTES = 1024
"""Smaller values stay inline: a reference costs about 100 bytes, and thousands of tiny objects
would cost more than they save."""
EVERYTHING = "*"
"""In `inline`: a condition reads the whole data (a wildcard, `**` or `$`): nothing moves."""
_DIGEST = re.compile(r"[0-9a-f]{64}")


def retention_days(retention_seconds: int) -> int:
    """S3 expires objects by whole days: at least one, never before the retention has passed."""
    return max(1, -(-retention_seconds // 86_400))


def json_bytes(value: Any) -> int:
    """The size Step Functions and DynamoDB count: UTF-8 bytes of compact JSON."""
    return len(_dumps(value))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def is_reference(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get(REF), str)


class PayloadStore(Protocol):
    def put(self, key: str, body: bytes, retention_days: int | None) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes; None when there is no such object."""
        ...


class S3PayloadStore:
    def __init__(self, bucket: str, client: Callable[[], Any]) -> None:
        self.bucket = bucket
        self.client = client

    @classmethod
    def of(cls, bucket: str, client: Any) -> S3PayloadStore | None:
        """The store of a service function (its client made at init); None without a bucket."""
        return cls(bucket, lambda: client) if bucket else None

    def put(self, key: str, body: bytes, retention_days: int | None) -> None:
        extra = {"Tagging": f"{RETENTION_TAG}={retention_days}"} if retention_days else {}
        self.client().put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json", **extra
        )

    def get(self, key: str) -> bytes | None:
        client = self.client()
        try:
            return bytes(client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except client.exceptions.NoSuchKey:
            return None


@dataclass(frozen=True)
class ClaimCheck:
    """One tenant's view of the payload bucket, for one workflow's retention."""

    store: PayloadStore | None
    tenant: str
    retention_days: int | None = None

    # references ------------------------------------------------------------------------
    def reference(self, value: Any, where: str) -> dict[str, Any]:
        """Store `value`; the reference that stands for it."""
        if self.store is None:
            raise PayloadTooLargeError(
                f"{where} is {json_bytes(value):,} bytes and no payload bucket is configured to "
                "hold it (BATON_PAYLOAD_BUCKET)"
            )
        body = _dumps(value)
        key = f"{self.tenant}/{hashlib.sha256(body).hexdigest()}"
        try:
            self.store.put(key, body, self.retention_days)
        except Exception as err:
            raise PayloadStoreError(
                f"could not store {where} ({len(body):,} bytes) in the payload bucket: {err}"
            ) from err
        return {REF: key, "bytes": len(body)}

    def value(self, reference: Mapping[str, Any], where: str) -> Any:
        """The value a reference stands for, checked against the digest its key names."""
        key = str(reference[REF])
        tenant, _, digest = key.rpartition("/")
        if tenant != self.tenant or not _DIGEST.fullmatch(digest):
            raise PayloadReferenceError(
                f"{where} refers to {key!r}, which is not a payload of tenant {self.tenant!r}"
            )
        if self.store is None:
            raise PayloadReferenceError(f"{where} is a reference and no payload bucket is set")
        try:
            body = self.store.get(key)
        except Exception as err:
            raise PayloadStoreError(
                f"could not read {where} from the payload bucket: {err}"
            ) from err
        if body is None:
            raise PayloadReferenceError(
                f"{where} refers to payload {key!r}, which is gone (expired with its "
                "workflow's retention, or never stored)"
            )
        if hashlib.sha256(body).hexdigest() != digest:
            raise PayloadReferenceError(f"payload {key!r} ({where}) does not match its digest")
        return json.loads(body)

    def resolve(self, value: Any, where: str = "data", *, lenient: bool = False) -> Any:
        """`value` with every reference in it replaced by what it stands for; `lenient` keeps
        a reference that is not this tenant's, gone or corrupted as it is (an archive still
        gets written), instead of raising PayloadReferenceError."""
        if is_reference(value):
            try:
                return self.value(value, where)
            except PayloadReferenceError:
                if lenient:
                    return value
                raise
        if isinstance(value, Mapping):
            return {k: self.resolve(v, f"{where}.{k}", lenient=lenient) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{i}]", lenient=lenient) for i, v in enumerate(value)]
        return value

    # offloading ------------------------------------------------------------------------
    def offload(
        self,
        changes: Mapping[str, Any],
        *,
        base: Mapping[str, Any] | None = None,
        budget: int = BUDGET_BYTES,
        inline: Collection[str] = (),
        what: str = "the workflow data",
    ) -> dict[str, Any]:
        """`changes` as they may travel: `base` merged with them must fit `budget`, so the
        largest top-level values (of either, but never one `inline` names) move to S3, largest
        first; a base value that moves is returned among the changes, as its reference."""
        out = dict(changes)
        merged = {**(base or {}), **out}
        size = json_bytes(merged)
        if size <= budget:
            return out
        if EVERYTHING in inline:
            raise PayloadTooLargeError(
                f"{what} is {size:,} bytes (the most that travels inline is {budget:,}) and a "
                "condition reads the whole data (a wildcard, '**' or '$'), so none of it can "
                "move to S3: make the condition name the fields it reads"
            )
        sizes = {k: json_bytes(v) for k, v in merged.items()}
        movable = sorted(
            (k for k, v in merged.items() if k not in inline and not is_reference(v)),
            key=lambda k: sizes[k],
            reverse=True,
        )
        for key in movable:
            if sizes[key] < MIN_MOVABLE_BYTES:
                break
            out[key] = merged[key] = self.reference(merged[key], f"{what} field {key!r}")
            size -= sizes[key] - json_bytes(merged[key])  # the object's other bytes stay
            if size <= budget:
                return out
        kept = sorted((k for k in merged if k in inline), key=lambda k: -sizes[k])
        detail = ", ".join(f"{k!r} ({sizes[k]:,} bytes)" for k in kept)
        raise PayloadTooLargeError(
            f"{what} is {size:,} bytes with every value of {MIN_MOVABLE_BYTES:,} bytes or more "
            f"in S3; at most {budget:,} travel inline"
            + (
                f". Fields conditions or fan-outs read stay inline: {detail}; keep them smaller"
                if kept
                else ": group many small values into fewer, larger fields"
            )
        )

    def offload_value(self, value: Any, *, budget: int, where: str) -> Any:
        """`value` itself, or its reference when it is larger than `budget`."""
        return value if json_bytes(value) <= budget else self.reference(value, where)
