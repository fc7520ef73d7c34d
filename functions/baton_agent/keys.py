"""Item keys of the executions table (see tables.EXECUTIONS for the design)."""

from __future__ import annotations

RECORD = "RECORD"
CHECKPOINT = "CHECKPOINT"
HANDOFF_PREFIX = "HANDOFF#"


def execution_pk(tenant: str, execution_id: str) -> str:
    return f"EXEC#{tenant}#{execution_id}"


def handoff_sk(finished_at: str, step: str) -> str:
    """Handoffs sort by the time they finished, then by step (parallel members may tie)."""
    return f"{HANDOFF_PREFIX}{finished_at}#{step}"


def idempotency_pk(tenant: str, workflow_id: str, key: str) -> str:
    """A key is the tenant's, for one workflow: the same key elsewhere is another claim."""
    return f"IDEMPOTENCY#{tenant}#{workflow_id}#{key}"


def workflow_key(tenant: str, workflow_id: str) -> str:
    return f"WF#{tenant}#{workflow_id}"


def status_key(tenant: str, status: str) -> str:
    return f"STATUS#{tenant}#{status}"


def tenant_key(tenant: str) -> str:
    return f"TENANT#{tenant}"
