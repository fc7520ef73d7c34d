"""What the lifecycle needs to know about deployed workflows, behind one small interface.

In the cloud the stack passes it in the environment (BATON_WORKFLOWS, JSON); offline the local
runtime registers each workflow it deploys. Resume points are read from the deployed state
machine itself (its resume router), so a resume always matches the definition that will run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

_RESUME_RULE = re.compile(r'\$ctx\.resumeAfter="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Trigger:
    on: str
    workflow: str


@dataclass(frozen=True)
class WorkflowInfo:
    workflow_id: str
    name: str
    state_machine_arn: str
    auto_recovery: bool = True
    max_recoveries: int = 1
    triggers: tuple[Trigger, ...] = field(default_factory=tuple)


class WorkflowCatalog(Protocol):
    def get(self, workflow_id: str) -> WorkflowInfo | None: ...


class StaticCatalog:
    """Workflows known up front (from the environment, or registered by the local runtime)."""

    def __init__(self, workflows: dict[str, WorkflowInfo] | None = None) -> None:
        self.workflows = dict(workflows or {})

    def register(self, info: WorkflowInfo) -> None:
        self.workflows[info.workflow_id] = info

    def get(self, workflow_id: str) -> WorkflowInfo | None:
        return self.workflows.get(workflow_id)

    @classmethod
    def from_json(cls, text: str) -> StaticCatalog:
        entries = json.loads(text or "[]")
        return cls(
            {
                e["workflowId"]: WorkflowInfo(
                    workflow_id=e["workflowId"],
                    name=e.get("name", e["workflowId"]),
                    state_machine_arn=e["stateMachineArn"],
                    auto_recovery=bool(e.get("autoRecovery", True)),
                    max_recoveries=int(e.get("maxRecoveries", 1)),
                    triggers=tuple(Trigger(t["on"], t["workflow"]) for t in e.get("triggers", [])),
                )
                for e in entries
            }
        )


def resume_points(sfn: Any, state_machine_arn: str) -> dict[str, str]:
    """Completed step → the state a resumed run continues at, read from the deployed state
    machine's resume router; the first step is under "" (nothing completed yet)."""
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=state_machine_arn)["definition"]
    )
    router = definition.get("States", {}).get("Resume router", {})
    points = {"": str(router.get("Default", ""))}
    for choice in router.get("Choices", []):
        match = _RESUME_RULE.search(choice.get("Condition", ""))
        if match:
            points[json.loads(f'"{match.group(1)}"')] = str(choice["Next"])
    return points
