"""The events handler's logic: Step Functions "Execution Status Change" → Baton's bookkeeping.

For the current run of a Baton execution (others are ignored) it keeps the record true for
every status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED, which no in-machine Catch sees), updates
each agent's rolling accuracy from the run's handoffs, publishes Baton's events to EventBridge,
notifies an SNS topic, archives the final record in S3, starts dependent workflows with the
output as their input, and resumes failed executions when auto-recovery is on, at most the
workflow's `maxRecoveries` times (so never in a loop).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from baton_agent.keys import is_express_run, run_name
from baton_agent.payloads import RECORD_BYTES, RETENTION_TAG, retention_days
from baton_agent.records import to_json
from baton_agent.stats import AccuracyStats
from baton_service.catalog import WorkflowInfo
from baton_service.exceptions import LifecycleError
from baton_service.history import RunHistory, read_history
from baton_service.lifecycle import (
    EXPRESS_RUN_SECONDS,
    LifecycleService,
    run_age_seconds,
    run_number,
    seconds_since,
)
from baton_service.publishing import EventPublisher
from baton_service.record import ExecutionRecord, linked
from baton_service.store import (
    COUNTED_RUN,
    FINISHED_RUN,
    NOTIFIED_RUN,
    PUBLISHED_RUN,
    SETTLED_RUN,
    SETTLING_UNTIL,
    ExecutionItems,
    shown,
)

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest

STATUS_CHANGE = "Step Functions Execution Status Change"
"""The detail-type of Step Functions' status-change events (the stack's rule matches it)."""
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
"""The statuses of a run's end: the only status changes the stack's rule routes here."""

THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})
"""What Step Functions answers a request over its quota with."""
REPORTED = "reportedByRun"
"""Set in the detail of an Express run's own report (it has no history to read)."""
ERROR_MESSAGE_CHARS = 500
"""The most of a failure's message a record keeps (_bounded)."""
NEVER_RECOVERED = frozenset(
    {"AgentInputError", "BudgetSpentError", "States.Runtime", "States.QueryEvaluationError"}
)
"""Errors another run cannot fix: bad input, a spent time budget (never retried either), an
expression of the workflow itself that fails (a condition that throws fails the same way)."""
SETTLING_SECONDS = 30
"""How long the delivery that applied a run's outcome holds its settlement: longer than the
events function's timeout (baton.deploy.manifest.EVENTS_TIMEOUT_SECONDS), after which Lambda
has surely ended it, and shorter than Lambda's wait before it retries a failed invocation."""
MAX_TRIGGER_DEPTH = 10
"""At most this many executions in a chain of triggers: a safety net behind the cycle check."""


class SettlementInProgressError(RuntimeError):
    """Another delivery of the same status change is settling the run's outcome: this one
    fails, so that it is retried once that delivery has ended (or surely died)."""


@dataclass
class Lease:
    """This delivery's hold on a run's settlement (SETTLING_UNTIL): `until`, and whether it
    holds it (it applied the outcome, or took over one whose lease had passed)."""

    until: int
    held: bool = False
    waits: bool = True
    """Whether it waits out another delivery's lease: not for an Express run's report, which
    its state machine retries only once the attempt before has ended."""


@dataclass
class Settlement:
    """What is left to settle a run's applied outcome: its notification (`kind`, the final
    record), unless it was sent already."""

    run: int
    kind: str
    final: dict[str, Any]
    notified: bool


Handled = tuple[dict[str, Any], Settlement | None]
"""An outcome handler's answer, and what is left to settle (None: nothing was applied)."""


@dataclass
class Outlets:
    """Where the handler sends things; each may be absent (None) where it is not configured."""

    sns: Any = None
    topic_arn: str | None = None
    s3: Any = None
    archive_bucket: str | None = None


def status_change_event(described: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event Step Functions sends for a run's status, from the run's
    DescribeExecution answer (`stopDate` and `startDate` as datetimes)."""
    arn = str(described["executionArn"])
    _, _, _, region, account, *_ = arn.split(":")
    detail = {
        "executionArn": arn,
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": described["status"],
        "startDate": _epoch_ms(described.get("startDate")),
        "stopDate": _epoch_ms(described.get("stopDate")),
        "input": described.get("input"),
        "output": described.get("output"),
        "error": described.get("error"),
        "cause": described.get("cause"),
    }
    return {
        "version": "0",
        "detail-type": STATUS_CHANGE,
        "source": "aws.states",
        "account": account,
        "region": region,
        "resources": [arn],
        "detail": detail,
    }


def _run_of(detail: Mapping[str, Any]) -> int:
    """The number of the run a status change is about (its name is `<executionId>-<n>`): what
    the record's marks (FINISHED_RUN, SETTLED_RUN...) hold, a few bytes where its ARN took a
    hundred."""
    return run_number(str(detail.get("name", "")))


def _epoch_ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float):  # EventBridge gives epoch milliseconds
        return datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="milliseconds")
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return str(value)


def _bounded(error: dict[str, Any]) -> dict[str, Any]:
    """A failure as the record keeps it (and its events and notification tell it): its message
    cut at ERROR_MESSAGE_CHARS, saying how much more there was. A cause may be 32 KB, and the
    record's error is in each index's summary: every write of a long one would cost a unit
    per KB. A Standard run's history, an Express run's recorded failures, keep it whole."""
    message = str(error.get("message") or "")
    if len(message) <= ERROR_MESSAGE_CHARS:
        return error
    more = len(message) - ERROR_MESSAGE_CHARS
    kept = f"{message[:ERROR_MESSAGE_CHARS]}… [{more} more characters]"
    return {**error, "message": kept}


def _total_ms(detail: Mapping[str, Any]) -> float:
    """The run's duration in milliseconds (EventBridge gives start and stop as epoch ms, an
    Express run's report as ISO-8601 times)."""
    start, stop = _epoch_ms_of(detail.get("startDate")), _epoch_ms_of(detail.get("stopDate"))
    return float(stop - start) if start is not None and stop is not None else 0.0


def _epoch_ms_of(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value)).timestamp() * 1000
    except ValueError:
        return None


def _elapsed_seconds(record: Mapping[str, Any]) -> float:
    """Time since the execution started (0: unknown): its budget covers all its runs."""
    return seconds_since(str(record.get("startTime", ""))) or 0.0


class StatusChangeHandler:
    def __init__(
        self,
        lifecycle: LifecycleService,
        stats: AccuracyStats,
        outlets: Outlets,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.lifecycle = lifecycle
        self.store = lifecycle.store
        self.sfn = lifecycle.sfn
        self.stats = stats
        self.outlets = outlets

    @property
    def publisher(self) -> EventPublisher:
        """Baton's events go out as the lifecycle's announcements do: one bus, one client."""
        return self.lifecycle.publisher

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        detail = dict(event.get("detail") or {})
        if not str(detail.get("executionArn", "")).startswith("arn:"):
            return {"ignored": "not a Step Functions status change"}
        if detail.get("status") == "RUNNING":  # the stack's rule routes ends only
            return {"ignored": "a run's start is announced by the lifecycle that starts it"}
        if detail.get("status") not in ENDED:
            return {"ignored": f"status {detail.get('status')}"}
        run_input = self._run_field(detail, "input")
        tenant, execution_id = run_input.get("tenant"), run_input.get("executionId")
        if (
            not tenant
            or not execution_id
            or not str(detail.get("name", "")).startswith(f"{execution_id}-")
        ):
            return {"ignored": "not a Baton run"}
        status = detail.get("status")
        # an end needs the run's handoffs (and an Express run's failures) too: read with the
        # record, in one request
        items = self.store.items(tenant, execution_id)
        record = items.record
        if record is None:
            return {"ignored": "no such execution"}
        run = _run_of(detail)  # what the record's marks hold: the run's number
        if run != record.get("run"):
            return {"ignored": "not the current run"}
        # A replayed outcome is known from the record, before any history is read. An outcome
        # applied (FINISHED_RUN) but not settled was interrupted before it had told the world
        # (events, notification, archive, triggers, recovery): this delivery finishes it.
        if record.get(FINISHED_RUN) == run == record.get(SETTLED_RUN):
            return {"ignored": "this run's outcome was applied already"}
        handler = {
            "SUCCEEDED": self._succeeded,
            "FAILED": self._failed,
            "TIMED_OUT": self._failed,
            "ABORTED": self._aborted,
        }[str(status)]
        lease = Lease(int(self.clock()) + SETTLING_SECONDS, waits=not detail.get(REPORTED))
        try:
            result, settlement = handler(record, detail, items, lease)
            if settlement is not None:
                self._settle(record, settlement)
        except SettlementInProgressError:
            raise
        except Exception:  # let the next delivery settle it at once: nobody else is
            if lease.held:
                self._release(record, lease)
            raise
        return result

    def _release(self, record: Mapping[str, Any], lease: Lease) -> None:
        try:
            self.store.move_lease(record["tenant"], record["executionId"], lease.until, None)
        except Exception:  # the lease passes by itself; the delivery's own error matters
            logger.warning("could not release the settlement's lease", exc_info=True)

    def report(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """An Express run's own report of its start or end (baton.compiler.express), which has
        the detail of the status-change event Step Functions sends for a Standard run."""
        return self.handle({"detail": {**report, REPORTED: True}})

    def repair(self, tenant: str, execution_id: str) -> dict[str, Any]:
        """Make the record true to its current run: deliver that run's status change again, as
        Step Functions would (for an event that was lost, or kept in the DLQ after its retries,
        or applied half way). Delivered twice, it changes nothing."""
        record = self.store.get(tenant, execution_id)
        if record is None:
            return {"ignored": "no such execution"}
        run = record.get("currentRun")
        if not run:
            return {"ignored": "the execution has no run yet"}
        if is_express_run(run):
            return self._repair_express(record, run)
        described = self.sfn.describe_execution(executionArn=run)
        if described["status"] == "RUNNING":
            return {"ignored": "its current run is still running"}
        return self.handle(status_change_event(described))

    def _repair_express(self, record: Mapping[str, Any], run: str) -> dict[str, Any]:
        """An Express run cannot be described. Once it is surely over (it lasts at most 5
        minutes) without having reported its end, it ended with an error no Catch sees
        (States.Runtime) or its report failed: it is settled as failed."""
        started = str(record.get("runStartedAt") or record.get("startTime") or "")
        elapsed = run_age_seconds(record) or 0.0  # unknown: it may have just started
        if elapsed < EXPRESS_RUN_SECONDS:
            return {
                "ignored": f"its current run may still be running (an express run lasts up to "
                f"{EXPRESS_RUN_SECONDS}s; this one started {elapsed:.0f}s ago)"
            }
        return self.report(
            {
                "executionArn": run,
                "name": run_name(run),
                "status": "FAILED",
                "startDate": started,
                "stopDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "input": {"tenant": record["tenant"], "executionId": record["executionId"]},
                "error": "States.Runtime",
                "cause": "the express run ended without reporting its end (an error no Catch "
                "sees, or its report to the events function failed); settled by repair",
            }
        )

    # statuses --------------------------------------------------------------------------
    def _run_field(self, detail: dict[str, Any], field: str) -> dict[str, Any]:
        """The run's input or output, from the event when it carries it; else (EventBridge drops
        them over 248 KB: `inputDetails.included` is false) from the run itself, by its ARN."""
        text = detail.get(field)
        if isinstance(text, dict):  # an Express run reports them as JSON values
            return text
        if text is None:
            described = self.sfn.describe_execution(executionArn=detail["executionArn"])
            detail["input"], detail["output"] = described.get("input"), described.get("output")
            text = detail.get(field)
        value = json.loads(text or "{}")
        return value if isinstance(value, dict) else {}

    def _succeeded(
        self,
        record: dict[str, Any],
        detail: Mapping[str, Any],
        items: ExecutionItems,
        lease: Lease,
    ) -> Handled:
        output = self._run_field(dict(detail), "output")
        data = output.get("data", {}) if isinstance(output, dict) else {}
        history = self._history(record, detail, items.failures)
        claims = self.lifecycle.claims(record["tenant"], record["workflowId"])
        kept = claims.offload(data, budget=RECORD_BYTES, what="the output")  # item <= 400 KB
        changes = {"status": "completed", "output": kept}
        if record.get("expiresAt") is not None:  # the output's item expires with the record
            changes["expiresAt"] = record["expiresAt"]
        # the run's real outcome beats a cancel that came too late to stop it
        settlement = self._finish(
            record,
            detail,
            changes,
            history,
            "Workflow Completed",
            only_if=("running", "cancelled"),
            handoffs=items.handoffs,
            lease=lease,
        )
        if settlement is None:
            return self._not_applied(record, detail), None
        triggered = self._start_triggers(record, "completed", data)
        return {"status": "completed", "triggered": triggered}, settlement

    def _failed(
        self,
        record: dict[str, Any],
        detail: Mapping[str, Any],
        items: ExecutionItems,
        lease: Lease,
    ) -> Handled:
        if record["status"] in ("cancelled", "paused"):
            # stopped by request and reported FAILED (a failure that beat the stop): what the
            # user asked for stands
            return self._aborted(record, detail, items, lease)
        history = self._history(record, detail, items.failures)
        workflow = self.lifecycle.catalog.get(record["workflowId"])
        error = history.error(
            str(detail.get("status")),
            ended_at=_iso(detail.get("stopDate")),
            error=detail.get("error"),
            cause=detail.get("cause"),
            timeout_seconds=workflow.timeout_seconds if workflow else None,
        ) or {"message": "failed", "errorType": "States.Runtime", "retryCount": 0}
        error = _bounded(error)
        changes = {"status": "failed", "error": error}
        agent_failed = error.get("agentName") and error.get("errorType") != "BudgetSpentError"
        extra = [self.publisher.entry("Agent Failed", record, error)] if agent_failed else []
        settlement = self._finish(
            record,
            detail,
            changes,
            history,
            "Workflow Failed",
            extra,
            handoffs=items.handoffs,
            lease=lease,
        )
        if settlement is None:
            return self._not_applied(record, detail), None
        self._start_triggers(
            record, "failed", {"failedExecutionId": record["executionId"], "error": error}
        )
        reason = self._no_recovery(record, detail, error, workflow)
        if reason is not None or workflow is None:
            return {
                "status": "failed",
                "notRecovered": reason or "auto-recovery is off",
            }, settlement
        # notified before the recovery starts: once the record names the next run, this run's
        # event is no longer the current run's, and a delivery after would be ignored
        self._notify_once(record, settlement)
        delay = workflow.recovery_delay(int(record.get("recoveries", 0)) + 1)
        self.lifecycle.resume(
            record["tenant"], record["executionId"], recovery=True, delay_seconds=delay
        )
        return {"status": "failed", "recovering": True, "afterSeconds": delay}, settlement

    @staticmethod
    def _no_recovery(
        record: Mapping[str, Any],
        detail: Mapping[str, Any],
        error: Mapping[str, Any],
        workflow: WorkflowInfo | None,
    ) -> str | None:
        """Why a failed execution is not resumed automatically (None: it is). Recovery never
        defeats what the user asked for: an abort, an input no retry can fix, the timeout."""
        if workflow is None or not workflow.auto_recovery:
            return "auto-recovery is off"
        if int(record.get("recoveries", 0)) >= workflow.max_recoveries:
            return f"recovered {workflow.max_recoveries} times already (maxRecoveries)"
        if detail.get("status") == "TIMED_OUT":
            return "the workflow timed out"
        if error.get("errorType") in NEVER_RECOVERED:
            if error.get("errorType") == "BudgetSpentError":
                return "the workflow's time budget is spent"
            return f"{error.get('errorType')} cannot be fixed by another run"
        if error.get("agentName") in workflow.abort_agents:
            return f"{error.get('agentName')} aborts the workflow when it fails (strategy: abort)"
        delay = workflow.recovery_delay(int(record.get("recoveries", 0)) + 1)
        if workflow.timeout_seconds and (
            _elapsed_seconds(record) + delay >= workflow.timeout_seconds
        ):
            return "the workflow's time budget is spent (or would be, by the recovery's backoff)"
        return None

    def _aborted(
        self,
        record: dict[str, Any],
        detail: Mapping[str, Any],
        items: ExecutionItems,
        lease: Lease,
    ) -> Handled:
        if record["status"] == "paused":  # no outcome: the run is resumed later
            run = _run_of(detail)
            if not self.store.mark_once(record["tenant"], record["executionId"], "pausedRun", run):
                return {"ignored": "already announced"}, None
            self.publisher.publish([self.publisher.entry("Workflow Paused", record, {})])
            return {"status": "paused"}, None
        history = self._history(record, detail, items.failures)
        settlement = self._finish(
            record,
            detail,
            {"status": "cancelled"},
            history,
            "Workflow Cancelled",
            only_if=("running", "pending", "cancelled"),
            handoffs=items.handoffs,
            lease=lease,
        )
        if settlement is None:
            return self._not_applied(record, detail), None
        return {"status": "cancelled"}, settlement

    # helpers ---------------------------------------------------------------------------
    def _finish(
        self,
        record: dict[str, Any],
        detail: Mapping[str, Any],
        outcome: Mapping[str, Any],
        history: RunHistory,
        kind: str,
        extra: list[dict[str, Any]] | None = None,
        only_if: tuple[str, ...] = ("running",),
        *,
        handoffs: list[dict[str, Any]],
        lease: Lease,
    ) -> Settlement | None:
        """Apply the run's outcome (with its end time and metrics) to the record, count it,
        publish it and archive it; what is left to settle it (its notification) is returned.
        Nothing at all when the record has moved on meanwhile (cancelled or paused by request)
        or this run's outcome was applied already (a replayed event): None.
        `handoffs`: every run's, read with the record (the run has ended: its agents write no
        more). `lease`: held by this delivery once it applied the outcome (or took over one
        applied by a delivery that died before settling it)."""
        run = _run_of(detail)
        tenant, execution_id = record["tenant"], record["executionId"]
        every_run = linked(handoffs)
        # what this run handed off, as the agents recorded it (under its ARN): also the items
        # a Distributed Map ran in child executions, whose events the run's own history does
        # not hold
        ours = [h for h in every_run if h.get("run") == detail["executionArn"]]
        changes = {
            **outcome,
            "endTime": _iso(detail.get("stopDate")),
            "metrics": history.metrics(_total_ms(detail), ours),
        }
        # the outcome's write marks it counted too: the statistics are written right after it,
        # once, by the delivery that applied it (a crash between the two loses the count,
        # as one between a separate mark and the count would)
        counted_now = self.store.update(
            tenant,
            execution_id,
            {**changes, COUNTED_RUN: run, SETTLING_UNTIL: lease.until},
            only_if_status=only_if,
            once_for_run=run,
        )
        lease.held = counted_now
        if not counted_now:
            current = self.store.get(tenant, execution_id) or {}
            if current.get(FINISHED_RUN) != run or current.get(SETTLED_RUN) == run:
                return None
            self._take_over(current, lease)
            record = current  # applied by a delivery that failed after: settle it now
            # (an outcome applied without its mark, by an earlier version, is counted now)
            counted_now = self.store.mark_once(tenant, execution_id, COUNTED_RUN, run)
        if counted_now:  # counted once
            accuracies: dict[str, list[float]] = {}
            for handoff in ours:  # in the order they finished
                if not handoff.get("cached") and not handoff.get("skipped"):
                    accuracies.setdefault(str(handoff["agent"]), []).append(
                        float(handoff["accuracy"])
                    )
            self.stats.record(record["workflowId"], accuracies)  # one write, not one per agent
        final = ExecutionRecord.model_validate(
            {**shown(record), **changes, FINISHED_RUN: run, "handoffs": every_run}
        ).to_json()
        summary = {k: final.get(k) for k in ("status", "error", "metrics", "endTime")}
        agents = [
            self.publisher.entry(
                "Agent Completed",
                record,
                {k: h.get(k) for k in ("agent", "step", "accuracy", "cached", "skipped")},
            )
            for h in ours
            if not h.get("skipped")
        ]
        # each outlet once per run, even when a delivery fails half way and the next one
        # finishes (the archive is written under the execution's key: again is harmless)
        entries = [*agents, *(extra or []), self.publisher.entry(kind, record, summary)]
        if record.get(PUBLISHED_RUN) != run:
            self.publisher.publish(entries)
            self.store.mark_once(tenant, execution_id, PUBLISHED_RUN, run)
        self._archive(final)
        return Settlement(run, kind, final, notified=record.get(NOTIFIED_RUN) == run)

    def _take_over(self, current: Mapping[str, Any], lease: Lease) -> None:
        """Hold the settlement of an outcome another delivery applied and did not settle: at
        once when that delivery failed (it released its lease) or its lease has passed (it was
        killed), or for an Express run's report (Lease.waits); SettlementInProgressError while
        it may still be settling it."""
        held = current.get(SETTLING_UNTIL)
        held = int(held) if held is not None else None
        moved = held is None or held <= self.clock() or not lease.waits
        if moved:
            moved = self.store.move_lease(
                current["tenant"], current["executionId"], held, lease.until
            )
        if not moved:
            raise SettlementInProgressError(
                f"execution {current['executionId']}: another delivery of run "
                f"{current.get(FINISHED_RUN)}'s end is settling it (for up to "
                f"{SETTLING_SECONDS}s); this one is to be retried"
            )
        lease.held = True

    def _notify_once(self, record: Mapping[str, Any], settlement: Settlement) -> None:
        """Notify the outcome unless it was: then it is marked (on its own; `_settle` marks it
        with the settlement)."""
        if not settlement.notified:
            self._notify(settlement.kind, settlement.final)
            self.store.mark_once(
                record["tenant"], record["executionId"], NOTIFIED_RUN, settlement.run
            )
            settlement.notified = True

    def _settle(self, record: Mapping[str, Any], settlement: Settlement) -> None:
        """The outcome's last outlet, its notification, then the run marked settled: the
        notification's mark and the settlement's are one write (the outlets before it, the
        triggers and a recovery's start are done)."""
        if not settlement.notified:
            self._notify(settlement.kind, settlement.final)
        self.store.mark_once(
            record["tenant"], record["executionId"], SETTLED_RUN, settlement.run, NOTIFIED_RUN
        )

    def _not_applied(self, record: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, Any]:
        """Why an outcome changed nothing: applied already, or the record has moved on."""
        current = self.store.get(record["tenant"], record["executionId"]) or {}
        if current.get(FINISHED_RUN) == _run_of(detail):
            return {"ignored": "this run's outcome was applied already"}
        return {"ignored": f"the execution is {current.get('status', 'gone')}"}

    def _history(
        self, record: Mapping[str, Any], detail: Mapping[str, Any], failures: list[dict[str, Any]]
    ) -> RunHistory:
        """The run's history; an Express run has none: the `failures` its agents recorded
        (read with the record) instead. So too for a Standard run whose history is throttled
        (GetExecutionHistory refills 5 requests a second per account: a burst of runs ending
        at once, a schedule firing for every tenant, outruns it), once botocore's retries are
        spent: its record is settled now from what its agents recorded, its transitions not
        known, rather than left running while this delivery's retries wait out the burst."""
        arn = str(detail["executionArn"])
        ours = [f for f in failures if f.get("run") == arn]
        if detail.get(REPORTED):
            return RunHistory.reported(ours)
        try:
            return read_history(self.sfn, arn)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in THROTTLED:
                raise
            logger.warning(
                "history throttled: settled from the agents' records",
                extra={"executionArn": arn, "error": str(err)},
            )
            return RunHistory.reported(ours, transitions=None)

    def _start_triggers(
        self, record: dict[str, Any], on: str, data: Mapping[str, Any]
    ) -> list[str]:
        """Start the workflows this one triggers `on` this outcome, each once per run (the start
        is keyed by the run); a trigger that cannot start (an unknown workflow, a chain deeper
        than MAX_TRIGGER_DEPTH) is reported as a "Trigger Failed" event, not raised."""
        workflow = self.lifecycle.catalog.get(record["workflowId"])
        depth = int(record.get("triggerDepth", 0)) + 1
        started = []
        for trigger in (t for t in (workflow.triggers if workflow else ()) if t.on == on):
            try:
                if depth > MAX_TRIGGER_DEPTH:
                    raise LifecycleError(
                        f"the chain of triggers is {MAX_TRIGGER_DEPTH} executions deep: "
                        f"{trigger.workflow} is not started (is there a cycle of triggers?)"
                    )
                key = f"trigger:{record['executionId']}:{record.get('run')}:{on}:{trigger.workflow}"
                execution = self.lifecycle.start(
                    trigger.workflow,
                    data,
                    tenant=record["tenant"],
                    idempotency_key=key,
                    trigger_depth=depth,
                )
                started.append(execution["executionId"])
            except LifecycleError as err:
                self.publisher.publish(
                    [
                        self.publisher.entry(
                            "Trigger Failed",
                            record,
                            {"workflow": trigger.workflow, "reason": str(err)},
                        )
                    ]
                )
        return started

    def _notify(self, kind: str, final: Mapping[str, Any]) -> None:
        if self.outlets.sns is None or not self.outlets.topic_arn:
            return
        error = final.get("error") or {}
        message = (
            f"{kind}: {final.get('workflowName')} [{final['executionId']}] is {final['status']}"
        )
        if error:
            message += f": {error.get('errorType')}: {error.get('message')}"
        self.outlets.sns.publish(
            TopicArn=self.outlets.topic_arn, Subject=kind[:100], Message=message
        )

    def _archive(self, final: Mapping[str, Any]) -> None:
        """The final record, whole: values kept in S3 (claim checks) are read back into it."""
        if self.outlets.s3 is None or not self.outlets.archive_bucket:
            return
        claims = self.lifecycle.claims(str(final["tenant"]), str(final["workflowId"]))
        final = {
            **final,
            "input": claims.resolve(final.get("input"), "input", lenient=True),
            "output": claims.resolve(final.get("output"), "output", lenient=True),
            "handoffs": [
                {**h, "data": claims.resolve(h.get("data"), "handoff", lenient=True)}
                for h in final.get("handoffs") or ()
            ],
        }
        key = f"{final['tenant']}/{final['workflowId']}/{final['executionId']}.json"
        request: dict[str, Any] = {}
        workflow = self.lifecycle.catalog.get(str(final["workflowId"]))
        if workflow is not None:
            request["Tagging"] = f"{RETENTION_TAG}={retention_days(workflow.retention_seconds)}"
        self.outlets.s3.put_object(
            Bucket=self.outlets.archive_bucket,
            Key=key,
            Body=to_json(final).encode(),
            ContentType="application/json",
            **request,
        )
