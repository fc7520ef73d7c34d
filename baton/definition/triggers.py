"""Trigger cycles: a workflow that starts itself, directly or through the workflows it
triggers, would chain executions without end. `baton validate` and the deployment refuse it."""

from __future__ import annotations

from collections.abc import Iterable

from baton.definition.exceptions import Problem
from baton.definition.resolved import ResolvedWorkflow


def trigger_cycle_problems(
    workflows: Iterable[ResolvedWorkflow], only: set[str] | None = None
) -> list[Problem]:
    """One problem per workflow (of `only`, if given) that a chain of triggers leads back to."""
    by_id = {w.id: w for w in workflows}
    edges = {w.id: [t.workflow for t in w.source.triggers] for w in by_id.values()}
    problems = []
    for start in sorted(by_id):
        if only is not None and start not in only:
            continue
        path = _path_back(start, edges)
        if path:
            chain = " → ".join([start, *path])
            problems.append(
                Problem(
                    by_id[start].file,
                    "triggers",
                    f"{start} triggers itself ({chain}): each execution would start the next "
                    "without end; remove a trigger from the chain",
                )
            )
    return problems


def _path_back(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    """The shortest chain of triggers from `start` back to it (breadth first), or None."""
    queue: list[tuple[str, list[str]]] = [(start, [])]
    seen = {start}
    while queue:
        node, path = queue.pop(0)
        for target in edges.get(node, []):
            if target == start:
                return [*path, target]
            if target not in seen:
                seen.add(target)
                queue.append((target, [*path, target]))
    return None
