"""The shape of a workflow before it becomes states: steps, parallel groups, conditional branches.

A group runs at the position of its first member. An agent named in a condition's branch runs only
on that branch. A condition after a group member branches after the whole group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from baton.definition.resolved import ResolvedCondition, ResolvedWorkflow


class PlanError(ValueError):
    """A workflow whose conditions cannot be placed (reported by validation in practice)."""


@dataclass
class Branching:
    condition: ResolvedCondition
    then: list[Node]
    else_: list[Node]


@dataclass
class Node:
    """One position in a sequence: a single agent, or a parallel group of agents."""

    agents: tuple[str, ...]
    branching: Branching | None = None
    task_names: dict[str, str] = field(default_factory=dict)
    group_name: str = ""
    shared_task: str = ""
    """The Task a group's members share, when they retry, fall back and time out alike."""
    condition_name: str = ""

    @property
    def is_group(self) -> bool:
        return len(self.agents) > 1


def build_plan(workflow: ResolvedWorkflow) -> list[Node]:
    """The main sequence of nodes, each possibly followed by a condition and its branches."""
    group_of = {member: group for group in workflow.groups for member in group}
    conditions = {c.after: c for c in workflow.conditions}
    placed: set[tuple[str, ...]] = set()
    main: list[Node] = []
    for agent in workflow.agents:
        agents = group_of.get(agent, (agent,))
        if agents in placed:
            continue
        placed.add(agents)
        main.append(Node(agents))
    for node in main:
        _attach(node, conditions, depth=0)
    return main


def _attach(node: Node, conditions: dict[str, ResolvedCondition], depth: int) -> None:
    if depth > 50:
        raise PlanError("conditions nest more than 50 levels deep")
    found = [conditions[a] for a in node.agents if a in conditions]
    if len(found) > 1:
        raise PlanError(
            f"two conditions run after the same parallel group: {', '.join(c.after for c in found)}"
        )
    if not found:
        return
    cond = found[0]
    then = [Node((agent,)) for agent in cond.then]
    else_ = [Node((agent,)) for agent in cond.else_]
    for child in (*then, *else_):
        _attach(child, conditions, depth + 1)
    node.branching = Branching(cond, then, else_)


def walk(nodes: list[Node]) -> list[Node]:
    """Every node of a plan, depth first, in reading order."""
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        if node.branching:
            out += walk(node.branching.then) + walk(node.branching.else_)
    return out
