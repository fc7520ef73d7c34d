"""Start, inspect, list, cancel, pause and resume executions (used by the CLI and the API).

An execution (Baton's unit, with its own id) may span several Step Functions runs: the first,
then one per resume. The record names every run and the current one; status changes of runs
other than the current one are ignored, so a late event from an old run changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets as random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from baton_agent.cache import canonical_json
from baton_agent.errors import PayloadTooLargeError
from baton_agent.keys import is_express_run
from baton_agent.payloads import RECORD_BYTES, ClaimCheck, PayloadStore, retention_days
from baton_service.catalog import WorkflowCatalog, WorkflowInfo, resume_points
from baton_service.exceptions import (
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidInputError,
    InvalidTransitionError,
    LifecycleError,
    ResumePointMissingError,
    RunStillFinishingError,
    WorkflowNotFoundError,
)
from baton_service.history import RunHistory, read_history
from baton_service.inputs import (
    check_execution_id,
    check_idempotency_key,
    check_page_limit,
    check_run_input,
    check_run_size,
    check_tenant,
)
from baton_service.publishing import EventPublisher
from baton_service.record import ExecutionRecord, linked
from baton_service.store import FINISHED_RUN, ExecutionStore, shown

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest

TERMINAL = ("completed", "failed", "cancelled")
ANNOUNCED_WHILE = ("running", "pending")
"""The statuses a run's start is announced in ("Workflow Started")."""
RESUMABLE = ("failed", "paused", "cancelled")
EXPRESS_RUN_SECONDS = 300
"""An Express run lasts at most 5 minutes (baton.compiler.express)."""


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def seconds_since(moment: str) -> float | None:
    """Seconds since an ISO-8601 moment (None: not one)."""
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(moment)).total_seconds()
    except ValueError:
        return None


def run_age_seconds(record: Mapping[str, Any]) -> float | None:
    """Seconds since the execution's current run started (None: its start is unknown)."""
    return seconds_since(str(record.get("runStartedAt") or record.get("startTime") or ""))


def new_execution_id(clock: Callable[[], float] = time.time) -> str:
    """`exec_<ms>_<9 chars>`, the reference document's format (inputs.EXECUTION_ID)."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return f"exec_{int(clock() * 1000)}_{''.join(random.choice(alphabet) for _ in range(9))}"


def run_name(execution_id: str, number: int) -> str:
    return f"{execution_id}-{number}"


def run_number(name: str) -> int:
    """The run number in a run's name (0 when the name is not a Baton run's)."""
    _, _, number = name.rpartition("-")
    return int(number) if number.isdigit() else 0


def input_hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


class LifecycleService:
    def __init__(
        self,
        store: ExecutionStore,
        sfn: Any,
        catalog: WorkflowCatalog,
        payloads: PayloadStore | None = None,
        publisher: EventPublisher | None = None,
    ) -> None:
        self.store = store
        self.sfn = sfn
        self.catalog = catalog
        self.payloads = payloads
        """Where large input and output values are kept (baton_agent.payloads)."""
        self.publisher = publisher or EventPublisher()
        """Where each run's start is announced ("Workflow Started")."""

    def claims(self, tenant: str, workflow_id: str) -> ClaimCheck:
        """The payload store as the tenant's runs of the workflow use it (its retention)."""
        workflow = self.catalog.get(workflow_id)
        days = retention_days(workflow.retention_seconds) if workflow else None
        return ClaimCheck(self.payloads, tenant, days)

    # queries ---------------------------------------------------------------------------
    def get(self, tenant: str, execution_id: str, *, with_handoffs: bool = True) -> dict[str, Any]:
        """The record (checked against the one record model, baton_service.record); the full
        view adds the handoffs (linked: each names the agent that took it on), the checkpoint
        and the current step (the step after the checkpoint, by the compiled definition)."""
        check_tenant(tenant)
        check_execution_id(execution_id)  # not one of ours: never a key to look up
        if not with_handoffs:
            return ExecutionRecord.model_validate(self._stored(tenant, execution_id)).to_json()
        items = self.store.items(tenant, execution_id)  # record, handoffs, checkpoint: one read
        if items.record is None:
            raise ExecutionNotFoundError(tenant, execution_id)
        return self._view(shown(items.record), linked(items.handoffs), items.checkpoint)

    def _stored(self, tenant: str, execution_id: str) -> dict[str, Any]:
        record = self.store.get(tenant, execution_id)
        if record is None:
            raise ExecutionNotFoundError(tenant, execution_id)
        return shown(record)

    def _view(
        self,
        record: dict[str, Any],
        handoffs: list[dict[str, Any]],
        checkpoint: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The full view: the record with its handoffs, its checkpoint and the step after it,
        as the catalog's compiled definition names it."""
        view = {**record, "handoffs": handoffs, "checkpoint": checkpoint}
        workflow = self.catalog.get(record["workflowId"])
        if workflow is not None:
            points = workflow.resume_points or resume_points(self.sfn, workflow.state_machine_arn)
            view["currentStep"] = points.get(checkpoint["after"] if checkpoint else "")
        return ExecutionRecord.model_validate(view).to_json()

    def list_executions(
        self, tenant: str, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        check_page_limit(filters.get("limit", 20))
        return self.store.list_executions(check_tenant(tenant), **filters)

    # commands --------------------------------------------------------------------------
    def start(
        self,
        workflow_id: str,
        data: Mapping[str, Any] | None = None,
        *,
        tenant: str = "default",
        idempotency_key: str | None = None,
        no_cache: bool = False,
        trigger_depth: int = 0,
    ) -> dict[str, Any]:
        """Start an execution; the same key and input give the same execution back.
        `trigger_depth` counts the executions whose triggers led to this one."""
        check_tenant(tenant)
        check_idempotency_key(idempotency_key)
        data = check_run_input(data)
        workflow = self._workflow(workflow_id)
        digest = input_hash(data)
        data = self._travelling_input(tenant, workflow_id, data)
        execution_id = new_execution_id()
        start_time = _now_iso()
        first_run = {**self._payload(tenant, execution_id, workflow, start_time), "data": data}
        check_run_size(len(canonical_json(first_run).encode()))
        expires_at = int(time.time()) + workflow.retention_seconds
        claim = self.store.create(
            {
                "executionId": execution_id,
                "tenant": tenant,
                "workflowId": workflow.workflow_id,
                "workflowName": workflow.name,
                # named running with its first run before the run starts (see _run), in the
                # write that creates it
                "status": "running",
                "run": 1,
                "runStartedAt": start_time,
                "startTime": start_time,
                "input": data,
                "inputHash": digest,
                "idempotencyKey": idempotency_key,
                "noCache": no_cache,
                "recoveries": 0,
                "triggerDepth": trigger_depth,
                "runs": [],
                "expiresAt": expires_at,
            },
            claim_key=idempotency_key,
        )
        if claim["executionId"] != execution_id:  # the key was used: that execution, or 409
            if claim["inputHash"] != digest:
                raise IdempotencyConflictError(idempotency_key or "", claim["executionId"])
            return self.get(tenant, claim["executionId"])
        try:
            started = self._run(
                tenant,
                execution_id,
                workflow,
                {"data": data},
                [],
                start_time=start_time,
                no_cache=no_cache,
                marked=True,
            )
        except LifecycleError:
            if idempotency_key:  # no poisoned key: a retry with it may start afresh
                self.store.release_claim(tenant, workflow_id, idempotency_key, execution_id)
            raise
        # its view as its run starts, from the record the run's last write answered with: its
        # handoffs and checkpoint are not read (it had none when its run started; the view of
        # GET shows them as its steps end)
        return self._view({**shown(started), "input": data}, [], None)  # kept apart, maybe

    def cancel(self, tenant: str, execution_id: str) -> dict[str, Any]:
        """Cancel the execution and stop its run. Cancelling again stops a run that a failed
        StopExecution (throttled) left running, which would otherwise complete and override
        the cancel."""
        record = self.get(tenant, execution_id, with_handoffs=False)
        if record["status"] == "cancelled" and self._still_running(record):
            self._stop(record, "cancelled by request")
            return self.get(tenant, execution_id)
        if record["status"] in TERMINAL:
            raise InvalidTransitionError(execution_id, record["status"], "cancel")
        changed = self.store.update(
            tenant,
            execution_id,
            {"status": "cancelled", "endTime": _now_iso()},
            only_if_status=("pending", "running", "paused"),
        )
        if not changed:
            return self.cancel(tenant, execution_id)  # it moved on meanwhile: judge again
        self._stop(record, "cancelled by request")
        return self.get(tenant, execution_id)

    def pause(self, tenant: str, execution_id: str) -> dict[str, Any]:
        record = self.get(tenant, execution_id, with_handoffs=False)
        if record["status"] != "running":
            raise InvalidTransitionError(execution_id, record["status"], "pause")
        if not self.store.update(
            tenant, execution_id, {"status": "paused"}, only_if_status=("running",)
        ):
            return self.pause(tenant, execution_id)
        self._stop(record, "paused by request")
        return self.get(tenant, execution_id)

    def resume(
        self, tenant: str, execution_id: str, *, recovery: bool = False, delay_seconds: int = 0
    ) -> dict[str, Any]:
        """Continue after the last checkpointed step (from the start if there is none); the run
        first waits `delay_seconds` (an auto-recovery's backoff) inside Step Functions."""
        record = self.get(tenant, execution_id, with_handoffs=False)
        if record["status"] not in RESUMABLE:
            raise InvalidTransitionError(execution_id, record["status"], "resume")
        workflow = self._workflow(record["workflowId"])
        # an auto-recovery follows a run that failed by itself: its steps have ended (but for
        # the other members of a group that failed while they ran: the fence refuses their
        # results, and the recovered run runs them again)
        if not recovery:
            self._refuse_while_finishing(record)  # before the checkpoint is read: it may move
        checkpoint = self.store.checkpoint(tenant, execution_id)
        run_input: dict[str, Any] = {}
        if checkpoint is not None:
            if checkpoint["after"] not in resume_points(self.sfn, workflow.state_machine_arn):
                raise ResumePointMissingError(execution_id, checkpoint["after"])
            # the checkpointed data replaces the input (the Start state reads one or the other)
            run_input["resume"] = {"after": checkpoint["after"], "data": checkpoint["data"]}
        else:
            run_input["data"] = record.get("input", {})
        if delay_seconds > 0:
            run_input["recoveryDelay"] = int(delay_seconds)
        changes: dict[str, Any] = {"resumedAfter": checkpoint["after"] if checkpoint else None}
        if recovery:
            changes["recoveries"] = int(record.get("recoveries", 0)) + 1
        self._run(
            tenant,
            execution_id,
            workflow,
            run_input,
            list(record.get("runs", [])),
            start_time=str(record["startTime"]),
            no_cache=bool(record.get("noCache")),
            expected=(record["status"],),
            changes=changes,
        )
        return self.get(tenant, execution_id)

    # internals -------------------------------------------------------------------------
    def _refuse_while_finishing(self, record: Mapping[str, Any]) -> None:
        """Refuse a resume while the last run's agent may still be running a step: Step
        Functions ends a stopped or timed-out run at once, but its function runs on and
        records the step (its run is still the current one). A new run started meanwhile
        would run that step, and its side effects, again. An Express run ends on its own at
        the next step (a cooperative stop) and reports its end."""
        run = str(record.get("currentRun") or "")
        if not run:
            return
        now = time.time()
        if is_express_run(run):
            if record.get("run") in (record.get(FINISHED_RUN), record.get("pausedRun")):
                return
            age = run_age_seconds(record)
            if age is not None and age < EXPRESS_RUN_SECONDS:
                until = now + EXPRESS_RUN_SECONDS - age
                raise RunStillFinishingError(record["executionId"], ["current step"], _iso(until))
            return
        history = self._history_of(run)
        if history is None:
            return
        if not history.ended:  # its StopExecution failed: two runs would go on at once
            raise RunStillFinishingError(record["executionId"], [], None)
        running = [(s, t) for s, t in history.unfinished() if t > now]
        if not running:
            return
        handoffs = self.store.items(record["tenant"], record["executionId"]).handoffs
        recorded = {h.get("step") for h in handoffs if h.get("run") == run}
        waiting = [(step, until) for step, until in running if step not in recorded]
        if waiting:
            raise RunStillFinishingError(
                record["executionId"],
                [f"step {step}" for step, _ in waiting],
                _iso(max(until for _, until in waiting)),
            )

    def _travelling_input(
        self, tenant: str, workflow_id: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The input as the run and the record carry it: its large values in S3."""
        try:
            return self.claims(tenant, workflow_id).offload(
                data, budget=RECORD_BYTES, what="the input"
            )
        except PayloadTooLargeError as err:
            raise InvalidInputError("input", str(err)) from err

    def _workflow(self, workflow_id: str) -> WorkflowInfo:
        workflow = self.catalog.get(workflow_id)
        if workflow is None:
            raise WorkflowNotFoundError(workflow_id)
        return workflow

    def _run(
        self,
        tenant: str,
        execution_id: str,
        workflow: WorkflowInfo,
        run_input: dict[str, Any],
        runs: list[str],
        *,
        start_time: str,
        no_cache: bool,
        expected: tuple[str, ...] = (),
        changes: Mapping[str, Any] | None = None,
        marked: bool = False,
    ) -> dict[str, Any]:
        """Start a Step Functions run of the execution and make it the current run; return the
        record as that write left it.

        The record is marked running with the run's number before the run starts, so that the
        status events of a run that ends at once are already recognised as the current run's
        (`marked`: a new execution's record was created so). A cancel or pause that came while
        the run started stops it once it is the current run.
        """
        number = len(runs) + 1
        name = run_name(execution_id, number)
        payload = {
            **self._payload(tenant, execution_id, workflow, start_time, no_cache=no_cache),
            **run_input,
        }
        if not marked:
            update = {
                "status": "running",
                "endTime": None,
                "error": None,
                "run": number,
                "runStartedAt": _now_iso(),
                "expiresAt": int(time.time()) + workflow.retention_seconds,
                **(changes or {}),
            }
            # the fence moves with it: an attempt of an earlier run records nothing from now
            made = self.store.make_current(
                tenant, execution_id, update, run=number, only_if_status=expected
            )
            if not made:
                raise InvalidTransitionError(execution_id, "changing", "start a run of")
        try:
            arn = self.sfn.start_execution(
                stateMachineArn=workflow.state_machine_arn, name=name, input=canonical_json(payload)
            )["executionArn"]
        except Exception as err:  # the run never started: say so in the record, then raise
            message = f"could not start a run of {workflow.workflow_id}: {err}"
            error = {"message": message, "errorType": "StartFailed", "timestamp": _now_iso()}
            self.store.update(
                tenant, execution_id, {"status": "failed", "error": error, "endTime": _now_iso()}
            )
            raise LifecycleError(message) from err
        started = self.store.updated(
            tenant, execution_id, {"currentRun": arn, "runs": [*runs, arn]}
        )
        if started.get("status") in ("cancelled", "paused"):  # asked for while the run started
            self._stop(started, f"{started['status']} by request")
        elif started.get("status") in ANNOUNCED_WHILE and started.get("run") == number:
            self._announce(started)
        return started

    def _announce(self, record: Mapping[str, Any]) -> None:
        """Announce the run ("Workflow Started"): once, as it was started here once (Step
        Functions' RUNNING events are not routed to Baton, and an Express run sends none). A
        failure to publish does not fail the start: the run is running."""
        entry = self.publisher.entry("Workflow Started", record, {"run": record.get("run")})
        try:
            self.publisher.publish([entry])
        except Exception:  # the run stands; the operator sees why the event is missing
            logger.warning("could not announce the run's start", exc_info=True)

    @staticmethod
    def _payload(
        tenant: str,
        execution_id: str,
        workflow: WorkflowInfo,
        start_time: str,
        *,
        no_cache: bool = False,
    ) -> dict[str, Any]:
        """Baton's own fields of a run's input (the compiled Start state reads them); the
        deadline is the budget of every run: what is left of the execution's timeout."""
        payload: dict[str, Any] = {
            "tenant": tenant,
            "executionId": execution_id,
            "noCache": no_cache,
        }
        if workflow.timeout_seconds:
            started = datetime.fromisoformat(start_time).timestamp()
            payload["deadline"] = round(started + workflow.timeout_seconds, 3)
        return payload

    def _still_running(self, record: Mapping[str, Any]) -> bool:
        """Whether the execution's current Standard run is still running (an Express run
        cannot be stopped: it ends itself at its next step)."""
        run = record.get("currentRun")
        if not run or is_express_run(str(run)) or record.get(FINISHED_RUN) == record.get("run"):
            return False
        # its history (which the API may read), not DescribeExecution (which it may not)
        history = self._history_of(str(run))
        return history is not None and not history.ended

    def _history_of(self, run: str) -> RunHistory | None:
        """A run's history; None when the run is gone (past its 90 days, a restart)."""
        try:
            return read_history(self.sfn, run)
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return None

    def _stop(self, record: Mapping[str, Any], cause: str) -> None:
        """Stop the current run; an Express run cannot be stopped: its agents see the record's
        new status before their next step and end it (baton_agent.runtime)."""
        run = record.get("currentRun")
        workflow = self.catalog.get(str(record["workflowId"]))
        if not run or (workflow is not None and workflow.express):
            return
        with contextlib.suppress(self.sfn.exceptions.ExecutionDoesNotExist):
            self.sfn.stop_execution(executionArn=run, cause=cause)
