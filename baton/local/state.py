"""`baton serve --state DIR`: the offline deployment's data kept in a folder, so executions,
cached results, agent statistics, archived records and large payloads survive a restart.

The folder holds what the DynamoDB tables and S3 buckets held, as plain files:
`dynamodb/<table>.json` (the items, as DynamoDB's JSON) and `s3/<bucket>/o-<percent-encoded key>`. Each
file is written whole to a temporary name, then renamed, so a crash mid-save leaves the previous
save. Step Functions runs themselves live only in the emulator: a run that was going when the
server stopped is gone, so its execution is marked failed on restore ("ServerRestarted"), and
`resume` continues it after its last completed step.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from baton.deploy.manifest import Manifest
from baton_agent import keys
from baton_service.store import FINISHED_RUN

FORMAT_VERSION = 1
OBJECT = "o-"
"""An object's file is `o-` and its key percent-encoded (no `/`, so never outside its folder;
never a `.` first, as a file being written is)."""
INTERRUPTED = ("pending", "running")
"""Statuses of an execution whose run was still going: the emulator's runs do not survive."""
SERVER_RESTARTED = {
    "message": "the offline server stopped while this execution ran; resume it to continue "
    "after its last completed step",
    "errorType": "ServerRestarted",
    "retryCount": 0,
}
SAVE_SECONDS = 2.0
"""How often `baton serve --state` saves (and once more when it stops)."""
BATCH = 25
"""DynamoDB's BatchWriteItem takes at most 25 items."""


class StateError(ValueError):
    """A state folder that cannot be read back: names the file and what is wrong."""


@dataclass(frozen=True)
class Restored:
    items: int
    objects: int
    interrupted: list[str]


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class StateFolder:
    """Saves and restores one offline deployment's tables and buckets."""

    def __init__(self, folder: Path, manifest: Manifest, boto3: Any, region: str) -> None:
        self.folder = folder
        self.tables = [table.name for table in manifest.tables.values()]
        self.buckets = [manifest.archive_bucket, manifest.payload_bucket]
        self.executions_table = manifest.tables["executions"].name
        self.dynamodb = boto3.client("dynamodb", region_name=region)
        self.s3 = boto3.client("s3", region_name=region)
        self._lock = threading.Lock()

    # saving -------------------------------------------------------------------------------
    def save(self) -> None:
        with self._lock:
            for table in self.tables:
                items = list(self._scan(table))  # Baton stores no binary values
                document = {"version": FORMAT_VERSION, "table": table, "items": items}
                _write_atomically(
                    self.folder / "dynamodb" / f"{table}.json",
                    json.dumps(document, ensure_ascii=False).encode(),
                )
            for bucket in self.buckets:
                kept = {OBJECT + quote(key, safe=""): key for key in self._keys(bucket)}
                folder = self.folder / "s3" / bucket
                for name, key in kept.items():
                    if not (folder / name).is_file():  # content-addressed or rewritten whole
                        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                        _write_atomically(folder / name, body)
                for stale in folder.glob(OBJECT + "*") if folder.is_dir() else ():
                    if stale.name not in kept:
                        stale.unlink()
            _write_atomically(
                self.folder / "state.json",
                json.dumps(
                    {"version": FORMAT_VERSION, "savedAt": datetime.now(UTC).isoformat()}
                ).encode(),
            )

    def _scan(self, table: str) -> Iterator[dict[str, Any]]:
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
            yield from page.get("Items", [])

    def _keys(self, bucket: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def saving_every(self, seconds: float) -> threading.Event:
        """Save in the background every `seconds` until the returned event is set."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(seconds):
                self.save()

        threading.Thread(target=loop, name="baton-state", daemon=True).start()
        return stop

    # restoring ----------------------------------------------------------------------------
    def restore(self, store: Any) -> Restored:
        """Load a previous save (nothing when the folder has none); each execution whose run
        was going when it was saved is marked failed in `store` (the lifecycle's
        ExecutionStore), so that it can be resumed."""
        if not (self.folder / "state.json").is_file():
            return Restored(0, 0, [])
        self._read_json(self.folder / "state.json")
        items = sum(self._restore_table(table) for table in self.tables)
        objects = sum(self._restore_bucket(bucket) for bucket in self.buckets)
        interrupted = []
        for item in self._scan(self.executions_table):
            status = item.get("status", {}).get("S")
            if item.get("sk", {}).get("S") == keys.RECORD and status in INTERRUPTED:
                tenant, execution_id = item["tenant"]["S"], item["executionId"]["S"]
                changes: dict[str, Any] = {"status": "failed", "error": SERVER_RESTARTED}
                if "currentRun" in item:  # it ended with the server: nothing of it still runs
                    changes[FINISHED_RUN] = int(item["run"]["N"])
                if store.update(tenant, execution_id, changes, only_if_status=INTERRUPTED):
                    interrupted.append(execution_id)
        return Restored(items, objects, interrupted)

    def _read_json(self, path: Path) -> dict[str, Any]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StateError(f"{path}: not a saved Baton state ({error})") from error
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            raise StateError(
                f"{path}: not a saved Baton state of format {FORMAT_VERSION} "
                "(start with another --state folder)"
            )
        return document

    def _restore_table(self, table: str) -> int:
        path = self.folder / "dynamodb" / f"{table}.json"
        if not path.is_file():
            return 0
        items = self._read_json(path).get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise StateError(f"{path}: `items` must be a list of DynamoDB items")
        for start in range(0, len(items), BATCH):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
            try:
                pending = {table: requests}
                while pending:
                    answer = self.dynamodb.batch_write_item(RequestItems=pending)
                    pending = answer.get("UnprocessedItems") or {}
            except Exception as error:  # a malformed item: DynamoDB's own validation message
                raise StateError(f"{path}: an item cannot be restored: {error}") from error
        return len(items)

    def _restore_bucket(self, bucket: str) -> int:
        folder = self.folder / "s3" / bucket
        if not folder.is_dir():
            return 0
        count = 0
        for file in sorted(folder.glob(OBJECT + "*")):
            key = unquote(file.name.removeprefix(OBJECT))
            self.s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
            count += 1
        return count
