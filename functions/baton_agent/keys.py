"""Item keys of the executions table (see tables.EXECUTIONS for the design)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

RECORD = "RECORD"
CHECKPOINT = "CHECKPOINT"
FENCE = "FENCE"
"""The execution's current run, when a resume made a run after the first current: only its
attempts may record steps (baton_agent.records). A tiny item, so the check of a group member's
write is billed at the least size whatever the record or the data weigh."""
FENCE_ATTRIBUTE = "fence"
"""The fence's run number, on the FENCE item and on the checkpoint."""
INPUT = "INPUT"
"""An execution's input, when kept apart from its record (baton_service.apart)."""
OUTPUT_PREFIX = "OUTPUT#"
"""An execution's output, kept apart from its record: `OUTPUT#<run>`, the run that gave it."""
HANDOFF_PREFIX = "HANDOFF#"
FAILURE_PREFIX = "FAILURE#"
"""A failed attempt of a step (Express keeps no history to read it from; a Standard run's may
be throttled when it ends)."""
# An execution's record, checkpoint, fence, handoffs, failures, input and output sort from
# CHECKPOINT to RECORD: the lifecycle reads them in one Query of that range
# (baton_service.store.ExecutionStore.items), without what agents stash in the partition
# (baton_agent.stash: STASH#, sorting after RECORD).


def execution_pk(tenant: str, execution_id: str) -> str:
    return f"EXEC#{tenant}#{execution_id}"


def handoff_sk(finished_at: str, step: str) -> str:
    """Handoffs sort by the time they finished, then by step (parallel members may tie)."""
    return f"{HANDOFF_PREFIX}{finished_at}#{step}"


ITEM_HANDOFF_PREFIX = f"{HANDOFF_PREFIX}ITEM#"
"""A fan-out item's handoff: keyed by the item, not by when it finished, so that a resumed run
finds by key (one GetItem) whether an earlier run completed that item, among up to 100,000.
Readers order handoffs by when they finished (handoff_order), not by key."""


def item_key(step: str, item: Any) -> str:
    """A fan-out item's identity across the runs of an execution: its step (`name[i]`) and a
    digest of the item as it travels (a large one is a reference naming its content), so a
    list that changed between runs is not taken for the one an earlier run worked on."""
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{step}#{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def item_handoff_sk(key: str) -> str:
    return f"{ITEM_HANDOFF_PREFIX}{key}"


def handoff_order(handoff: Mapping[str, Any]) -> str:
    """Where a handoff stands among an execution's: when it finished, then its step, as
    handoff_sk sorts them."""
    return f"{handoff.get('finishedAt', '')}#{handoff.get('step', '')}"


def failure_sk(failed_at: str, step: str, attempt: int) -> str:
    return f"{FAILURE_PREFIX}{failed_at}#{step}#{attempt}"


def run_name(run_arn: str) -> str:
    """The execution name in a run's ARN: `...:execution:<machine>:<name>` (Standard) or
    `...:express:<machine>:<name>:<id>` (Express)."""
    parts = run_arn.split(":")
    return parts[7] if len(parts) > 7 else parts[-1]


def is_express_run(run_arn: str) -> bool:
    """An Express execution's ARN: `arn:aws:states:<region>:<account>:express:...`."""
    parts = run_arn.split(":")
    return len(parts) > 5 and parts[5] == "express"


def output_sk(run: int) -> str:
    return f"{OUTPUT_PREFIX}{run}"


def idempotency_pk(tenant: str, workflow_id: str, key: str) -> str:
    """A key is the tenant's, for one workflow: the same key elsewhere is another claim."""
    return f"IDEMPOTENCY#{tenant}#{workflow_id}#{key}"


def workflow_key(tenant: str, workflow_id: str) -> str:
    return f"WF#{tenant}#{workflow_id}"


def status_key(tenant: str, status: str) -> str:
    return f"STATUS#{tenant}#{status}"


def tenant_key(tenant: str) -> str:
    return f"TENANT#{tenant}"
