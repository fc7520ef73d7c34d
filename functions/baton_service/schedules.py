"""Scheduled starts: what EventBridge Scheduler asks for, started once per scheduled time.

Scheduler delivers at least once (and retries), so each start claims the idempotency key
`schedule:<workflow>:<scheduled time>`: a repeated delivery gets the same execution back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baton_service.exceptions import LifecycleError
from baton_service.lifecycle import LifecycleService
from baton_service.tenants import is_tenant


class ScheduledStartError(LifecycleError):
    """A scheduler event Baton cannot start (a bad tenant, no workflow id or time)."""


def start_scheduled(lifecycle: LifecycleService, event: Mapping[str, Any]) -> dict[str, Any]:
    workflow_id = event.get("workflowId")
    tenant = event.get("tenant")
    scheduled = event.get("scheduledTime")
    data = event.get("input") or {}
    if not isinstance(workflow_id, str) or not workflow_id or not isinstance(scheduled, str):
        raise ScheduledStartError("a scheduled start names its workflowId and scheduledTime")
    if not is_tenant(tenant) or not isinstance(data, Mapping):
        raise ScheduledStartError(f"a scheduled start of {workflow_id} has a bad tenant or input")
    record = lifecycle.start(
        workflow_id,
        data,
        tenant=str(tenant),
        idempotency_key=f"schedule:{workflow_id}:{scheduled}",
    )
    return {"executionId": record["executionId"], "status": record["status"]}
