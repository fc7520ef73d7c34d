"""How much history and how many state transitions one run of a workflow can take.

Step Functions ends a standard execution at 25,000 history events, with an error no Catch sees,
and bills every state transition (a retry counts as one). Counted per piece, as the history
records it (measured on moto, as AWS records it):

- a run: ExecutionStarted and its end, `Start` and the `Resume router` (2 each): 6 events, 2
  transitions; the last step ends the run itself, and only a Choice (a condition's empty
  branch, a fan-out's tolerance check) at the end goes on to `Completed` (2 events, 1
  transition); a run started by auto-recovery adds its `Recovery backoff` Wait and the router
  again (4 events, 2 transitions);
- an agent Task: entered and exited (2), and 3 events per attempt (scheduled, started, and
  succeeded or failed): 5 without failures; with its R retries all spent, 3R + 5;
- its fallback once they are spent: `skip` writes the skipped handoff (a DynamoDB Task: 5),
  `alternative` runs its agent once (a Task: 5);
- a parallel group: members that share one Task, its Map (4) and per member the iteration (2)
  around the member's Task; members that do not (their retries, fallbacks or timeouts differ),
  a Parallel state (4) around each member's own Task;
- a condition: its Choice (2), then the longer of its branches;
- a fan-out (forEach) over n items (its `maxItems` unless told): inline, its Map (4), per item
  the iteration (2) around the agent's Task, a failed item's Pass (2), then the tolerance
  Choice (2); distributed, the parent records its Map run only (6: the items' events are in
  their child executions), but every item's transitions are billed all the same.

Three figures: without failures; the worst case of agent errors (every agent spends its
retries; a step with a fallback then takes it, a step without one succeeds on its last try, the
longest path that still completes); and that worst case with Lambda's own faults too (each
Lambda invocation retried 3 times for service errors and 6 for throttling, each DynamoDB write
3 times). The workflow is refused when its agent-error worst case passes the limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from baton.compiler.plan import Node, build_plan
from baton.compiler.retry import share_one_task
from baton.definition.resolved import ResolvedWorkflow

MAX_HISTORY_EVENTS = 25_000
RUN = (6, 2)
COMPLETED = (2, 1)
RECOVERED_RUN_EXTRA = (4, 2)
TASK = 5
ATTEMPT = 3
MAP = 4
MEMBER = 2  # MapIterationStarted/Succeeded, when the members share one Task in a Map
PARALLEL = (
    3  # ParallelStateEntered/Started/Exited (AWS logs no ParallelStateSucceeded), when they do not
)
CHOICE = 2
ITEM = 2  # MapIterationStarted/Succeeded
ITEM_FAILED = 2  # the failed item's Pass
DISTRIBUTED_MAP = 6  # MapStateEntered/Started, MapRunStarted/Succeeded, MapStateSucceeded/Exited
LAMBDA_FAULT_RETRIES = 3 + 6
"""Baton's retriers for Lambda.ServiceException & co (3) and TooManyRequestsException (6)."""
DYNAMODB_FAULT_RETRIES = 3


@dataclass(frozen=True)
class Cost:
    events: int = 0
    transitions: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.events + other.events, self.transitions + other.transitions)


@dataclass(frozen=True)
class Costs:
    failure_free: Cost = Cost()
    worst: Cost = Cost()
    with_lambda_faults: Cost = Cost()

    def __add__(self, other: Costs) -> Costs:
        return Costs(
            self.failure_free + other.failure_free,
            self.worst + other.worst,
            self.with_lambda_faults + other.with_lambda_faults,
        )


def _same(cost: Cost) -> Costs:
    return Costs(cost, cost, cost)


def _longer(a: Costs, b: Costs) -> Costs:
    def pick(x: Cost, y: Cost) -> Cost:
        return x if (x.events, x.transitions) >= (y.events, y.transitions) else y

    return Costs(
        pick(a.failure_free, b.failure_free),
        pick(a.worst, b.worst),
        pick(a.with_lambda_faults, b.with_lambda_faults),
    )


def _task(workflow: ResolvedWorkflow, agent: str) -> Costs:
    policy = workflow.policy(agent)
    retries = policy.retry.max_attempts
    worst = Cost(TASK + ATTEMPT * retries, 1 + retries)
    faults = Cost(ATTEMPT * LAMBDA_FAULT_RETRIES, LAMBDA_FAULT_RETRIES)
    if policy.strategy == "skip":
        fallback = Cost(TASK, 1)
        fallback_faults = Cost(ATTEMPT * DYNAMODB_FAULT_RETRIES, DYNAMODB_FAULT_RETRIES)
    elif policy.strategy == "alternative" and policy.alternative:
        fallback = Cost(TASK, 1)
        fallback_faults = faults
    else:
        fallback = fallback_faults = Cost()
    return Costs(
        Cost(TASK, 1),
        worst + fallback,
        worst + fallback + faults + fallback_faults,
    )


def _fan_out(workflow: ResolvedWorkflow, agent: str, items: int) -> Costs:
    """Every item spends its retries; the tolerated share of them fails the last try too and is
    caught (its Pass), so the run still completes."""
    spec = workflow.for_each[agent]
    task = _task(workflow, agent) + _same(Cost(ITEM, 0))
    total = Costs()
    for _ in range(items):
        total += task
    failing = math.floor(items * spec.tolerated_failure_percentage / 100)
    for _ in range(failing):
        total += Costs(Cost(), Cost(ITEM_FAILED, 1), Cost(ITEM_FAILED, 1))
    if spec.distributed:  # the items' events are in their child executions: transitions stay
        total = Costs(
            *(
                Cost(0, c.transitions)
                for c in (total.failure_free, total.worst, total.with_lambda_faults)
            )
        )
        return total + _same(Cost(DISTRIBUTED_MAP, 1) + Cost(CHOICE, 1))
    return total + _same(Cost(MAP, 1) + Cost(CHOICE, 1))


def _nodes(
    workflow: ResolvedWorkflow, nodes: list[Node], items: Mapping[str, int], *, last: bool = False
) -> Costs:
    """The cost of a sequence; `last` when it ends the run (then a Choice at its end goes on to
    Completed, while any other state ends the run itself)."""
    total = _same(Cost(*COMPLETED)) if last and not nodes else Costs()
    for position, node in enumerate(nodes):
        ends = last and position == len(nodes) - 1
        agent = node.agents[0]
        if agent in workflow.for_each:
            total += _fan_out(workflow, agent, items.get(agent, workflow.for_each[agent].max_items))
            if ends and not node.branching:  # its tolerance Choice goes on to Completed
                total += _same(Cost(*COMPLETED))
        elif node.is_group:
            shared = share_one_task(workflow, node.agents)
            total += _same(Cost(MAP if shared else PARALLEL, 1))
            for member in node.agents:
                total += _same(Cost(MEMBER if shared else 0, 0)) + _task(workflow, member)
        else:
            total += _task(workflow, node.agents[0])
        if node.branching:
            then = _nodes(workflow, node.branching.then, items, last=ends)
            else_ = _nodes(workflow, node.branching.else_, items, last=ends)
            total += _same(Cost(CHOICE, 1)) + _longer(then, else_)
    return total


@dataclass(frozen=True)
class HistoryBudget:
    """One run's history events and state transitions (see the module's description)."""

    failure_free: Cost
    worst: Cost
    with_lambda_faults: Cost
    recovered_run_extra: Cost = Cost(*RECOVERED_RUN_EXTRA)
    limit: int = MAX_HISTORY_EVENTS

    @property
    def fits(self) -> bool:
        return self.worst.events <= self.limit

    def to_json(self) -> dict[str, object]:
        return {
            "failureFree": asdict(self.failure_free),
            "worst": asdict(self.worst),
            "withLambdaFaults": asdict(self.with_lambda_faults),
            "recoveredRunExtra": asdict(self.recovered_run_extra),
            "limit": self.limit,
            "fits": self.fits,
        }


def history_budget(
    workflow: ResolvedWorkflow, items: Mapping[str, int] | None = None
) -> HistoryBudget:
    """The budget of one run; a fan-out counts `items[agent]` items, else its maxItems."""
    costs = _same(Cost(*RUN)) + _nodes(workflow, build_plan(workflow), items or {}, last=True)
    return HistoryBudget(costs.failure_free, costs.worst, costs.with_lambda_faults)
