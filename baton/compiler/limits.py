"""Step Functions limits the compiler checks before AWS would refuse or fail an execution.

- A definition is at most 1 MB.
- A standard execution's history holds at most 25,000 events: a workflow whose worst case (every
  agent spending its retries and taking its fallback, the longer branch of every condition)
  could pass it is refused (budget.py counts them).
- At most 256 KiB pass between states: the initial data alone must fit.
- An Express run lasts at most 5 minutes: the worst case must fit (express.py).
"""

from __future__ import annotations

import json
from typing import Any

from baton.compiler.budget import MAX_HISTORY_EVENTS, history_budget
from baton.compiler.express import express_problems
from baton.definition.exceptions import Problem
from baton.definition.resolved import ResolvedWorkflow

MAX_DEFINITION_BYTES = 1_048_576
MAX_PAYLOAD_BYTES = 262_144


def expected_history_events(workflow: ResolvedWorkflow) -> int:
    """History events of a run without failures (budget.history_budget has the worst cases)."""
    return history_budget(workflow).failure_free.events


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
    budget = history_budget(workflow)
    if workflow.type == "standard" and not budget.fits:
        problems.append(
            Problem(
                workflow.file,
                "agents",
                f"a run could record {budget.worst.events:,} history events (every agent "
                f"spending its retries, then its fallback; {budget.failure_free.events:,} when "
                f"nothing fails); Step Functions stops at {MAX_HISTORY_EVENTS:,}: lower "
                "maxRetries, or split the workflow into smaller ones chained by triggers",
            )
        )
    if workflow.type == "express":
        problems += express_problems(workflow)
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
