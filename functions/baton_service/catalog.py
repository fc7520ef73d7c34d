"""What the lifecycle needs to know about deployed workflows, behind one small interface.

Both read the entries the deployment manifest writes (baton.deploy): in the cloud from the
catalog file the stack ships in a layer (BATON_WORKFLOWS_FILE), offline registered one by one as
the local runtime deploys each workflow. A resume reads its resume points from the deployed state
machine itself (its resume router), so it always matches the definition that will run; a record's
view takes them from the catalog entry, written from the same compiled definition (reading the
state machine at every view would meet DescribeStateMachine's low request quota).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

_RESUME_RULE = re.compile(r"""\$ctx\.resumeAfter=(?:"((?:[^"\\]|\\.)*)"|'([^'\\]*)')""")
"""A resume rule's step: a JSON string (as JSON reads it), or a JSONata string in single quotes,
which the compiler writes only for a text that needs no escape (baton.compiler.asl)."""


@dataclass(frozen=True)
class Trigger:
    on: str
    workflow: str


@dataclass(frozen=True)
class WorkflowInfo:
    workflow_id: str
    name: str
    state_machine_arn: str
    retention_seconds: int
    """How long the execution's items are kept (the workflow's `retention:`)."""
    auto_recovery: bool = True
    max_recoveries: int = 1
    triggers: tuple[Trigger, ...] = field(default_factory=tuple)
    abort_agents: frozenset[str] = frozenset()
    """Agents whose failure aborts the workflow (`strategy: abort`): never auto-recovered."""
    timeout_seconds: int = 0
    """The execution's time budget across all its runs (0: not known here)."""
    recovery_delays: tuple[int, ...] = ()
    """Seconds the k-th auto-recovery waits before it resumes."""
    express: bool = False
    """An Express state machine: its runs cannot be stopped (cancel and pause are cooperative:
    the agents check the record before each step) and have no history."""
    details: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """What the API shows of it: description, the definition as written, its Mermaid graph."""
    resume_points: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Completed step → the state a resumed run continues at ("" → the first step), as
    compiled: what a record's view names as its current step."""

    @classmethod
    def from_entry(cls, entry: dict[str, Any], arn_prefix: str) -> WorkflowInfo:
        """A catalog entry; its state machine's ARN is `arn_prefix` + its name."""
        return cls(
            workflow_id=entry["workflowId"],
            name=entry.get("name", entry["workflowId"]),
            state_machine_arn=arn_prefix + entry["stateMachineName"],
            auto_recovery=bool(entry.get("autoRecovery", True)),
            max_recoveries=int(entry.get("maxRecoveries", 1)),
            triggers=tuple(Trigger(t["on"], t["workflow"]) for t in entry.get("triggers", [])),
            retention_seconds=int(entry["retentionSeconds"]),
            abort_agents=frozenset(entry.get("abortAgents", [])),
            timeout_seconds=int(entry.get("timeoutSeconds", 0)),
            recovery_delays=tuple(int(d) for d in entry.get("recoveryDelaysSeconds", ())),
            express=entry.get("type") == "EXPRESS",
            details={k: entry[k] for k in ("description", "definition", "graph") if k in entry},
            resume_points=dict(entry.get("resumePoints", {})),
        )

    def recovery_delay(self, recovery: int) -> int:
        """Seconds to wait before the `recovery`-th auto-recovery (1-based)."""
        if not self.recovery_delays:
            return 0
        return self.recovery_delays[min(recovery, len(self.recovery_delays)) - 1]


class WorkflowCatalog(Protocol):
    def get(self, workflow_id: str) -> WorkflowInfo | None: ...


class StaticCatalog:
    """Workflows and agents known up front (the deployment's catalog file, or registered one by
    one by the local runtime)."""

    def __init__(
        self,
        workflows: dict[str, WorkflowInfo] | None = None,
        agents: list[dict[str, Any]] | None = None,
    ) -> None:
        self.workflows = dict(workflows or {})
        self.agents = list(agents or [])

    def register(self, info: WorkflowInfo) -> None:
        self.workflows[info.workflow_id] = info

    def get(self, workflow_id: str) -> WorkflowInfo | None:
        return self.workflows.get(workflow_id)

    @classmethod
    def from_file(cls, path: str, arn_prefix: str) -> StaticCatalog:
        """The catalog file a deployment ships: {workflows: [...], agents: [...]} (no file
        configured: an empty catalog)."""
        if not path:
            return cls()
        with open(path, encoding="utf-8") as source:
            catalog = json.load(source)
        workflows = [WorkflowInfo.from_entry(e, arn_prefix) for e in catalog["workflows"]]
        return cls({w.workflow_id: w for w in workflows}, catalog.get("agents", []))


def resume_points(sfn: Any, state_machine_arn: str) -> dict[str, str]:
    """Completed step → the state a resumed run continues at, read from the deployed state
    machine's resume router; the first step is under "" (nothing completed yet)."""
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=state_machine_arn)["definition"]
    )
    return resume_points_in(definition)


def resume_points_in(definition: Mapping[str, Any]) -> dict[str, str]:
    """The resume points of a definition (an Express one's router is inside its "Run")."""
    states = definition.get("States", {})
    if "Resume router" not in states and "Run" in states:  # an Express run's: inside "Run"
        states = states["Run"].get("Branches", [{}])[0].get("States", {})
    router = states.get("Resume router", {})
    points = {"": str(router.get("Default", ""))}
    for choice in router.get("Choices", []):
        match = _RESUME_RULE.search(choice.get("Condition", ""))
        if match:
            quoted, plain = match.groups()
            step = json.loads(f'"{quoted}"') if quoted is not None else plain
            points[step] = str(choice["Next"])
    return points
