"""What the REST API does for a tenant, behind the routes (functions/api): start, inspect, list,
cancel, pause and resume executions; describe workflows and agents.

Every call takes the tenant from the verified identity (the routes pass it); an execution of
another tenant is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from baton_agent.tables import LISTED
from baton_service.catalog import StaticCatalog
from baton_service.exceptions import WorkflowNotFoundError
from baton_service.lifecycle import LifecycleService


class AgentStatistics(Protocol):
    def summaries(
        self, agents: list[str], workflows: Iterable[str]
    ) -> dict[str, dict[str, float]]: ...


def console_url(region: str, execution_arn: str) -> str:
    """Where a run is seen in the Step Functions console."""
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution_arn}"
    )


class ApiService:
    def __init__(
        self,
        lifecycle: LifecycleService,
        catalog: StaticCatalog,
        stats: AgentStatistics,
        region: str,
    ) -> None:
        self.lifecycle = lifecycle
        self.catalog = catalog
        self.stats = stats
        self.region = region

    # executions ------------------------------------------------------------------------
    def start(
        self,
        tenant: str,
        workflow_id: str,
        data: Mapping[str, Any],
        *,
        no_cache: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        record = self.lifecycle.start(
            workflow_id, data, tenant=tenant, idempotency_key=idempotency_key, no_cache=no_cache
        )
        return self._view(record)

    def get(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._view(self.lifecycle.get(tenant, execution_id))

    def list_executions(
        self,
        tenant: str,
        workflow_id: str,
        *,
        status: str | None,
        limit: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        self._workflow(workflow_id)
        records, token = self.lifecycle.list_executions(
            tenant, workflow_id=workflow_id, status=status, limit=limit, next_token=next_token
        )
        return {
            # each one's summary: what the table's indexes hold
            "executions": [{k: r[k] for k in LISTED if k in r} for r in records],
            "nextToken": token,
        }

    def cancel(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._view(self.lifecycle.cancel(tenant, execution_id))

    def pause(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._view(self.lifecycle.pause(tenant, execution_id))

    def resume(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._view(self.lifecycle.resume(tenant, execution_id))

    # workflows and agents --------------------------------------------------------------
    def workflows(self) -> list[dict[str, Any]]:
        return [
            {
                "workflowId": w.workflow_id,
                "name": w.name,
                "description": w.details.get("description", ""),
            }
            for w in self.catalog.workflows.values()
        ]

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        workflow = self._workflow(workflow_id)
        return {
            "workflowId": workflow.workflow_id,
            "name": workflow.name,
            "description": workflow.details.get("description", ""),
            "definition": workflow.details.get("definition", {}),
            "graph": workflow.details.get("graph", ""),
            "stateMachineArn": workflow.state_machine_arn,
            "triggers": [{"on": t.on, "workflow": t.workflow} for t in workflow.triggers],
        }

    def agents(self) -> list[dict[str, Any]]:
        names = [str(a["name"]) for a in self.catalog.agents]
        statistics = self.stats.summaries(names, self.catalog.workflows)
        empty = {"calls": 0, "rollingAccuracy": None, "lastAccuracy": None}
        return [
            {**a, "statistics": statistics.get(str(a["name"]), empty)} for a in self.catalog.agents
        ]

    # internals -------------------------------------------------------------------------
    def _workflow(self, workflow_id: str) -> Any:
        workflow = self.catalog.get(workflow_id)
        if workflow is None:
            raise WorkflowNotFoundError(workflow_id)
        return workflow

    def _view(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record as the API shows it: every run with its console URL."""
        hidden = ("inputHash", "expiresAt", "announcedRun", "pausedRun")  # bookkeeping
        view = {k: v for k, v in record.items() if k not in hidden}
        view["runs"] = [
            {"executionArn": arn, "consoleUrl": console_url(self.region, arn)}
            for arn in record.get("runs", [])
        ]
        return view
