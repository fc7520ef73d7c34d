"""What one execution of a workflow costs in AWS: the billed requests it makes, priced.

Counted from the workflow's plan for a run that starts through the API and has no failures:
every agent succeeds on its first try and finds nothing in the cache, a condition takes its
costlier branch, a fan-out gets its `maxItems` (or the items given). What makes each request:

- the API's start (baton_service.lifecycle.start): an API request and an invocation of the API
  function; the record's PutItem (running, its first run named; an input that would take the
  record over 1 KB is put in an item of its own first, not counted here:
  baton_service.apart), StartExecution, an UpdateItem
  (the run's ARN), and "Workflow Started" (PutEvents); it answers with the record that
  UpdateItem returns (no read: a new execution has no handoffs or checkpoint to read, and its
  current step comes from the catalog);
- each agent invocation (baton_agent.runtime): a Lambda invocation; one TransactWriteItems of
  2 items: its handoff and, for a step, the checkpoint, conditioned on the execution's current
  run (the fence it carries); for a group member or a fan-out item, which checkpoints nothing,
  a check of the FENCE item instead (under 1 KB: never the record, whose size a check would
  bill at every step); with a cache policy, a GetItem and, on a miss, a
  PutItem in the cache table; at most one GetSecretValue per secret its registry entry
  declares (a warm container reads fewer);
- the events function (baton_service.events), invoked once, for the run's end (the stack
  routes no RUNNING event: the start announced the run): SUCCEEDED reads the record with the
  handoffs (one Query of the execution's items) and the run's history (a GetExecutionHistory
  per 1,000 events), puts the output in an item of its own (a PutItem), writes the outcome
  marked counted, marks it published, then notified and settled in one write (3 UpdateItems),
  adds the handoffs to their agents' statistics (one UpdateItem of the
  workflow's statistics item per 80 agents, each billed at the item's size: baton_agent.stats),
  publishes an "Agent Completed" per handoff and "Workflow Completed" (PutEvents of up to 10
  entries), notifies SNS and archives the record (PutObject).

The record's writes cost writes to the executions table's indexes too (DynamoDB bills a
global secondary index's writes like the table's), but only those that change what the indexes
hold, a record's summary (baton_agent.tables.LISTED): its put (one per index) and its outcome
(a new status: one per index, and one more for the status index, whose key changes). The
marks and the run's ARN change none of it.

An Express workflow (baton.compiler.express) differs: its run invokes the events function
itself to report its end (the same one invocation), each agent reads the record before its
step (a GetItem), and the end finds the run's recorded failures among the items it reads with
the record, where a Standard run's reads its history.

Step Functions bills a Standard run by its state transitions (baton.compiler.budget) and an
Express run by its duration and memory. Large values moved to S3 (baton_agent.payloads) and
the executions a workflow's triggers start are not counted here: both depend on the data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from baton.compiler.budget import history_budget
from baton.compiler.express import express_problems, worst_seconds
from baton.compiler.plan import Node, build_plan
from baton.definition.resolved import ResolvedWorkflow
from baton.deploy.manifest import SERVICE_MEMORY_MB
from baton.deploy.prices import PUBLISHED, Prices
from baton_agent.stats import AGENTS_PER_UPDATE, stats_write_units
from baton_agent.tables import EXECUTIONS

EVENTS_PER_REQUEST = 10
"""PutEvents takes at most 10 entries."""
START = Counter(
    {
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 1,
        "sfn.StartExecution": 1,
        "eventbridge.PutEvents": 1,
    }
)
SUCCEEDED = Counter(
    {
        "dynamodb.Query": 1,
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 3,
        "sns.Publish": 1,
        "s3.PutObject": 1,
    }
)
INDEX_WRITES = 2 * len(EXECUTIONS.indexes) + 1
"""Index writes of a run: the record's put, then its outcome, whose status moves the record in
the status index (a delete and a put); each of a summary, at most 1 KB when the run succeeds."""
HISTORY_PAGE = 1000
"""The events function reads the run's history in pages of 1,000 events."""
STATUS_CHANGES = 1
"""The events function's invocations per run: its end."""


@dataclass(frozen=True)
class Usage:
    """What one execution uses, as AWS bills it."""

    transitions: int
    requests: Counter[str]
    """Billed requests by `service.Operation` (`lambda.Invoke`: the state machine's
    invocations: its agents', and an Express run's report of its end to the events function)."""
    transaction_items: int
    event_entries: int
    agent_invocations: Counter[str]
    """By agent: each is billed at its own function's memory."""
    service_invocations: int = 1 + STATUS_CHANGES
    """The API function's (the start) and the events function's."""
    statistics_updates: int = 0
    """The run's statistics UpdateItems (in `requests` too)."""
    statistics_write_units: int = 0
    """What they cost: each is billed at the size of the workflow's statistics item."""
    index_writes: int = INDEX_WRITES
    """Writes to the executions table's indexes (in no request's count)."""

    @property
    def write_units(self) -> int:
        """DynamoDB write request units: 1 per write of an item up to 1 KB, 2 per transaction
        item, 1 per index write; the statistics writes at their item's size. The record stays
        under 1 KB whatever the data (its output, and a large input, are kept in items of their
        own, written once: baton_service.apart); items holding data (the output, a large
        input, handoffs, checkpoints) cost a unit per KB, so with data over 1 KB these units
        are a floor."""
        plain = sum(self.requests[f"dynamodb.{op}"] for op in ("PutItem", "UpdateItem"))
        statistics = self.statistics_write_units - self.statistics_updates
        return plain + statistics + 2 * self.transaction_items + self.index_writes

    @property
    def read_units(self) -> int:
        """DynamoDB read request units, strongly consistent reads of up to 4 KB."""
        return self.requests["dynamodb.GetItem"] + self.requests["dynamodb.Query"]


@dataclass(frozen=True)
class Assumptions:
    agent_seconds: float = 1.0
    """How long an agent invocation runs (Lambda bills the time at the function's memory)."""
    service_seconds: float = 0.1
    """How long an invocation of Baton's API or events function runs."""


@dataclass(frozen=True)
class Line:
    what: str
    quantity: float
    unit: str
    price: float
    """Dollars per unit."""

    @property
    def dollars(self) -> float:
        return self.quantity * self.price


@dataclass(frozen=True)
class CostReport:
    workflow_id: str
    usage: Usage
    assumptions: Assumptions
    shared: list[Line]
    """Lines of both types: Lambda, DynamoDB, S3, events, notifications, secrets, the API."""
    standard: list[Line]
    express: list[Line]
    run_seconds: float
    """The run's duration at the assumed agent times (what Express bills)."""
    worst_seconds: float
    """The longest a run can take: every attempt to its timeout, every backoff waited."""
    express_problems: tuple[str, ...] = ()
    """Why the workflow cannot be `type: express` (baton.compiler.express); empty: it can."""
    prices: Prices = field(default=PUBLISHED)

    @property
    def fits_express(self) -> bool:
        return not self.express_problems

    def total(self, kind: str) -> float:
        own = self.standard if kind == "standard" else self.express
        return sum(line.dollars for line in (*self.shared, *own))

    def to_json(self) -> dict[str, object]:
        def lines(items: list[Line]) -> list[dict[str, object]]:
            return [
                {
                    "what": line.what,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "price": line.price,
                    "dollars": line.dollars,
                }
                for line in items
            ]

        return {
            "workflowId": self.workflow_id,
            "region": self.prices.region,
            "assumptions": {
                "agentSeconds": self.assumptions.agent_seconds,
                "serviceSeconds": self.assumptions.service_seconds,
            },
            "usage": {
                "transitions": self.usage.transitions,
                "requests": dict(sorted(self.usage.requests.items())),
                "transactionItems": self.usage.transaction_items,
                "indexWrites": self.usage.index_writes,
                "eventEntries": self.usage.event_entries,
                "writeUnits": self.usage.write_units,
                "readUnits": self.usage.read_units,
                "agentInvocations": dict(self.usage.agent_invocations),
                "serviceInvocations": self.usage.service_invocations,
            },
            "shared": lines(self.shared),
            "standard": {"lines": lines(self.standard), "perExecution": self.total("standard")},
            "express": {
                "lines": lines(self.express),
                "perExecution": self.total("express"),
                "runSeconds": self.run_seconds,
                "worstSeconds": self.worst_seconds,
                "fits": self.fits_express,
            },
        }


@dataclass
class _Path:
    """The agent invocations of a run, and how many agent times it lasts end to end."""

    calls: list[str] = field(default_factory=list)
    """The agent of each invocation."""
    slots: int = 0

    def __iadd__(self, other: _Path) -> _Path:
        self.calls += other.calls
        self.slots += other.slots
        return self


def _path(workflow: ResolvedWorkflow, nodes: list[Node], items: Mapping[str, int]) -> _Path:
    path = _Path()
    for node in nodes:
        agent = node.agents[0]
        spec = workflow.for_each.get(agent)
        if spec is not None:
            count = items.get(agent, spec.max_items)
            path += _Path([agent] * count, math.ceil(count / spec.max_concurrency))
        elif node.is_group:
            path += _Path(list(node.agents), 1)
        else:
            path += _Path([agent], 1)
        if node.branching:
            then = _path(workflow, node.branching.then, items)
            else_ = _path(workflow, node.branching.else_, items)
            path += max(then, else_, key=lambda p: (len(p.calls), p.slots))
    return path


def usage(workflow: ResolvedWorkflow, items: Mapping[str, int] | None = None) -> Usage:
    """The billed requests of one run without failures (see the module's description)."""
    items = items or {}
    return _usage(workflow, _path(workflow, build_plan(workflow), items), items)


def _usage(workflow: ResolvedWorkflow, path: _Path, items: Mapping[str, int]) -> Usage:
    requests = START + SUCCEEDED
    transaction_items = 0
    for agent in path.calls:
        requests["lambda.Invoke"] += 1
        requests["dynamodb.TransactWriteItems"] += 1
        transaction_items += 2  # handoff and checkpoint, or handoff and fence check
        if agent in workflow.caches:
            requests["dynamodb.GetItem"] += 1
            requests["dynamodb.PutItem"] += 1
        requests["secrets-manager.GetSecretValue"] += len(workflow.agent(agent).secrets)
    handoffs = len(path.calls)
    counted = sorted(set(path.calls))
    statistics_updates = math.ceil(len(counted) / AGENTS_PER_UPDATE)
    requests["dynamodb.UpdateItem"] += statistics_updates
    final_entries = handoffs + 1
    requests["eventbridge.PutEvents"] += math.ceil(final_entries / EVENTS_PER_REQUEST)
    budget = history_budget(workflow, items).failure_free
    if workflow.type == "express":
        # the run invokes the events function itself, each agent reads the record before its
        # step (a cancel or pause), and the end finds the recorded failures among the items it
        # reads with the record (the same Query), where a Standard run reads its history
        requests["lambda.Invoke"] += STATUS_CHANGES
        requests["dynamodb.GetItem"] += len(path.calls)
    else:
        requests["sfn.GetExecutionHistory"] += math.ceil(budget.events / HISTORY_PAGE)
    return Usage(
        transitions=budget.transitions,
        requests=+requests,
        transaction_items=transaction_items,
        event_entries=1 + final_entries,
        agent_invocations=Counter(path.calls),
        statistics_updates=statistics_updates,
        statistics_write_units=stats_write_units(workflow.id, counted),
    )


def cost_report(
    workflow: ResolvedWorkflow,
    items: Mapping[str, int] | None = None,
    assumptions: Assumptions = Assumptions(),
    prices: Prices = PUBLISHED,
) -> CostReport:
    """One execution's cost, Standard against Express, at the assumed agent times."""
    items = items or {}
    plan = build_plan(workflow)
    path = _path(workflow, plan, items)
    worst = worst_seconds(workflow, items)
    used = _usage(workflow, path, items)
    agent_gb_seconds = sum(
        count * workflow.agent(agent).memory / 1024 * assumptions.agent_seconds
        for agent, count in used.agent_invocations.items()
    )
    service_gb_seconds = used.service_invocations * SERVICE_MEMORY_MB / 1024
    service_gb_seconds *= assumptions.service_seconds
    invocations = sum(used.agent_invocations.values()) + used.service_invocations
    s3_puts = used.requests["s3.PutObject"]
    shared = [
        Line("API requests", 1, "request", prices.api_request),
        Line("Lambda invocations", invocations, "invocation", prices.lambda_request),
        Line(
            "Lambda compute", agent_gb_seconds + service_gb_seconds, "GB-s", prices.lambda_gb_second
        ),
        Line("DynamoDB writes", used.write_units, "WRU", prices.dynamodb_write_unit),
        Line("DynamoDB reads", used.read_units, "RRU", prices.dynamodb_read_unit),
        Line("S3 PUTs (archive)", s3_puts, "PUT", prices.s3_put),
        Line("EventBridge events", used.event_entries, "event", prices.event),
        Line("SNS publishes", used.requests["sns.Publish"], "publish", prices.sns_publish),
        Line(
            "Secrets Manager calls",
            used.requests["secrets-manager.GetSecretValue"],
            "call",
            prices.secrets_call,
        ),
    ]
    run_seconds = path.slots * assumptions.agent_seconds
    # an Express run also waits for its report to the events function
    express_seconds = run_seconds + STATUS_CHANGES * assumptions.service_seconds
    increments = math.ceil(round(express_seconds * 1000 / prices.express_increment_ms, 6))
    billed_seconds = increments * prices.express_increment_ms / 1000
    return CostReport(
        workflow_id=workflow.id,
        usage=used,
        assumptions=assumptions,
        shared=[line for line in shared if line.quantity],
        standard=[
            Line(
                "Standard transitions",
                used.transitions,
                "transition",
                prices.standard_transition,
            )
        ],
        express=[
            Line("Express executions", 1, "execution", prices.express_request),
            Line(
                "Express duration",
                billed_seconds * prices.express_memory_mb / 1024,
                "GB-s",
                prices.express_gb_second,
            ),
        ],
        run_seconds=run_seconds,
        # an Express run is not ended by the workflow's timeout (express.py): never capped
        worst_seconds=worst if workflow.type == "express" else _capped(workflow, worst),
        express_problems=tuple(p.message for p in express_problems(workflow)),
        prices=prices,
    )


def _capped(workflow: ResolvedWorkflow, seconds: float) -> float:
    return min(seconds, workflow.timeout_seconds) if workflow.timeout_seconds else seconds
