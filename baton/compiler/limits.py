"""Step Functions limits the compiler checks before AWS would refuse or fail an execution.

- A definition is at most 1 MB.
- A standard execution's history holds at most 25,000 events: the events of the path without
  failures are counted (the longer branch of every condition); a workflow that cannot finish
  even when nothing fails is refused. (Retries add events; the estimate says how many are left.)
- At most 256 KiB pass between states: the initial data alone must fit.
"""

from __future__ import annotations

import json
from typing import Any

from baton.compiler.plan import Node, build_plan
from baton.definition.exceptions import Problem
from baton.definition.resolved import ResolvedWorkflow

MAX_DEFINITION_BYTES = 1_048_576
MAX_HISTORY_EVENTS = 25_000
MAX_PAYLOAD_BYTES = 262_144

# history events of one piece on the path without failures (measured on moto, as in AWS)
EXECUTION_EVENTS = 8  # ExecutionStarted/Succeeded, Start (2), Resume router (2), Completed (2)
TASK_EVENTS = 5  # StateEntered, Scheduled, Started, Succeeded, StateExited
MAP_EVENTS = 4  # MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited
MEMBER_EVENTS = 4 + TASK_EVENTS  # IterationStarted, router (2), IterationSucceeded + the task
CHOICE_EVENTS = 2


def history_events(nodes: list[Node]) -> int:
    """Events of a sequence of plan nodes on the path without failures."""
    total = 0
    for node in nodes:
        total += MAP_EVENTS + MEMBER_EVENTS * len(node.agents) if node.is_group else TASK_EVENTS
        if node.branching:
            then, else_ = (history_events(b) for b in (node.branching.then, node.branching.else_))
            total += CHOICE_EVENTS + max(then, else_)
    return total


def expected_history_events(workflow: ResolvedWorkflow) -> int:
    return EXECUTION_EVENTS + history_events(build_plan(workflow))


def limit_problems(workflow: ResolvedWorkflow, asl: dict[str, Any]) -> list[Problem]:
    problems = []
    size = len(json.dumps(asl, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_DEFINITION_BYTES:
        problems.append(
            Problem(
                workflow.file,
                "agents",
                f"the compiled state machine is {size / 1_048_576:.2f} MB; Step Functions accepts at "
                "most 1 MB: split the workflow into smaller ones chained by triggers",
            )
        )
    events = expected_history_events(workflow)
    if workflow.type == "standard" and events > MAX_HISTORY_EVENTS:
        problems.append(
            Problem(
                workflow.file,
                "agents",
                f"an execution would record {events:,} history events even when nothing fails; "
                f"Step Functions stops at {MAX_HISTORY_EVENTS:,}: split the workflow",
            )
        )
    data = len(json.dumps(workflow.initial_data, ensure_ascii=False).encode())
    if data > MAX_PAYLOAD_BYTES:
        problems.append(
            Problem(
                workflow.file,
                "initialData",
                f"initialData is {data / 1024:.0f} KiB; Step Functions passes at most 256 KiB "
                "between states: keep large data in S3 and pass its key",
            )
        )
    return problems
