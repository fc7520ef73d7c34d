"""The one reader of a Step Functions run's history: its handoffs, failed attempts, the step
still running when it ended, its error and its metrics, as the execution record holds them.

Every attempt of an agent is a TaskScheduled event whose parameters carry the agent's payload
(agent, step); a success is a TaskSucceeded event carrying `{data, accuracy, meta}`, the very
handoff the agent runtime stored; a skipped step is the DynamoDB put of its handoff, whose item
the parameters carry too. The events handler (cloud and offline) and the offline run view both
read runs through RunHistory, so they cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean
from typing import Any

from baton_agent.errors import TOO_MANY_ITEMS_FAILED

AGENT_TASK_ENDS = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")
RUN_ENDS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
)


def details(event: Mapping[str, Any]) -> dict[str, Any]:
    return next((dict(v) for k, v in event.items() if k.endswith("EventDetails")), {})


def error_message(cause: str | None) -> str:
    """The message of a failure's cause (a Lambda error payload as JSON, or plain text)."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    return str(parsed.get("errorMessage", cause)) if isinstance(parsed, dict) else cause


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


class RunHistory:
    """One run's history events (GetExecutionHistory, oldest first), read once."""

    def __init__(self, events: Iterable[Mapping[str, Any]]) -> None:
        self.events = list(events)
        self.by_id = {e["id"]: e for e in self.events}
        self.attempts: dict[str, int] = {}
        """Attempts per step (every TaskScheduled of its agent)."""
        self.failures: list[dict[str, Any]] = []
        """Each failed agent attempt: {agent, step, error, message, timestamp}."""
        self.handoffs: list[dict[str, Any]] = []
        self.transitions: int | None = 0
        """State transitions as billed: every state entered, and every retry of a Task (its
        TaskScheduled after the first). None when not known (built without the history)."""
        self.last_state: str | None = None
        """The state entered last (where a run that failed outside any agent stopped)."""
        self._open: dict[int, dict[str, Any]] = {}
        self.reported_only = False
        """Built from recorded failures, not from a history (RunHistory.reported)."""
        self.ended = any(event["type"] in RUN_ENDS for event in self.events)
        """Whether the run has ended (its history holds its last event)."""
        for event in self.events:
            self._read(event)
        self.transitions = sum(map(_billed_transitions, self.events))

    @classmethod
    def reported(
        cls, failures: Iterable[Mapping[str, Any]], *, transitions: int | None = 0
    ) -> RunHistory:
        """A run's without its history: the failed attempts its agents recorded
        (baton_agent.records), oldest first. An Express run has no history, and bills no
        transitions (0); a Standard run whose history could not be read has `transitions`
        None (not known)."""
        history = cls(())
        history.reported_only = True
        history.transitions = transitions
        for failure in sorted(failures, key=lambda f: str(f.get("timestamp", ""))):
            step = str(failure["step"])
            history.failures.append(
                {k: failure.get(k) for k in ("agent", "step", "error", "message", "timestamp")}
            )
            history.attempts[step] = max(history.attempts.get(step, 0), int(failure["attempt"]))
        return history

    # reading ---------------------------------------------------------------------------
    def _scheduled(self, event: Mapping[str, Any]) -> Mapping[str, Any] | None:
        current: Mapping[str, Any] | None = event
        while current is not None and current["type"] != "TaskScheduled":
            current = self.by_id.get(current.get("previousEventId", 0))
        return current

    def _read(self, event: Mapping[str, Any]) -> None:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            self.last_state = details(event).get("name") or self.last_state
        if kind != "TaskScheduled" and kind not in AGENT_TASK_ENDS:
            return
        scheduled = self._scheduled(event)
        if scheduled is None:
            return
        info = details(scheduled)
        parameters = _json(info.get("parameters")) or {}
        if info.get("resourceType") == "dynamodb":
            if kind == "TaskSucceeded":  # a skipped step's handoff, as the state machine wrote it
                handoff = _json(((parameters.get("Item") or {}).get("handoff") or {}).get("S"))
                if isinstance(handoff, dict) and handoff.get("skipped"):
                    self.handoffs.append(handoff)
            return
        payload = parameters.get("Payload") if info.get("resourceType") == "lambda" else None
        if not isinstance(payload, dict) or "agent" not in payload:
            return
        step = _step(payload)
        if kind == "TaskScheduled":
            self.attempts[step] = self.attempts.get(step, 0) + 1
            self._open[scheduled["id"]] = payload
            return
        self._open.pop(scheduled["id"], None)
        if kind == "TaskSucceeded":
            output = _json(details(event).get("output")) or {}
            result = output.get("Payload") if isinstance(output, dict) else None
            if isinstance(result, dict):
                meta = result.get("meta")
                meta = meta if isinstance(meta, dict) else {}
                self.handoffs.append(
                    {
                        "agent": payload["agent"],
                        "step": step,
                        **meta,
                        "accuracy": result.get("accuracy"),
                        "data": result.get("data") or {},
                    }
                )
            return
        failure = details(event)
        self.failures.append(
            {
                "agent": payload["agent"],
                "step": step,
                "error": failure.get("error") or "States.Timeout",
                "message": error_message(failure.get("cause")),
                "timestamp": event["timestamp"],
            }
        )

    # what the record says --------------------------------------------------------------
    def running_step(self) -> dict[str, Any] | None:
        """The payload of the agent task still running when the run ended (for timeouts)."""
        return next(iter(self._open.values()), None)

    def unfinished(self) -> list[tuple[str, float]]:
        """The agent attempts scheduled and never ended in this history, as (step, the epoch
        second by which each has surely ended: its Task's TimeoutSeconds, longer than its
        function's timeout, after it was scheduled). A run stopped or timed out while they ran
        leaves them so: Step Functions ends the run at once, their functions run on, and each
        records its step if its run is still the execution's current one."""
        attempts = []
        for event_id, payload in self._open.items():
            scheduled = self.by_id[event_id]
            timeout = details(scheduled).get("timeoutInSeconds")
            moment = getattr(scheduled.get("timestamp"), "timestamp", None)
            if isinstance(timeout, int | float) and moment is not None:
                attempts.append((_step(payload), float(moment()) + float(timeout)))
        return attempts

    def error(
        self,
        status: str,
        *,
        ended_at: str | None,
        error: str | None = None,
        cause: str | None = None,
        timeout_seconds: int | None = None,
    ) -> dict[str, Any] | None:
        """The record's `error` for a run that ended with `status` (None: it did not fail)."""
        if status == "TIMED_OUT":
            running = self.running_step() or {}
            agent = running.get("agent")
            step = str(running.get("step", agent)) if agent else None
            after = f" after {timeout_seconds}s" if timeout_seconds else ""
            return {
                "message": f"workflow timed out{after}"
                + (f" while {agent} was running" if agent else ""),
                "errorType": "States.Timeout",
                "agentName": agent,
                "step": step,
                "timestamp": ended_at,
                "retryCount": max(0, self.attempts.get(step, 1) - 1) if step else 0,
            }
        if status != "FAILED":
            return None
        # an Express run's recorded failures may all have been retried away: its own error
        # then names what ended it
        unrelated = self.reported_only and self.failures and self.failures[-1]["error"] != error
        if not self.failures or error == TOO_MANY_ITEMS_FAILED or unrelated:
            # it failed in a state of its own: a condition, a Map, a fan-out's tolerance...
            message = error_message(cause) or error or "failed"
            state = self.last_state
            if state and state not in message:
                message = f"in state {state!r}: {message}"
            return {
                "message": message,
                "errorType": error or "States.Runtime",
                "step": state,
                "timestamp": ended_at,
                "retryCount": 0,
            }
        last = self.failures[-1]
        return {
            "message": last["message"],
            "errorType": last["error"],
            "agentName": last["agent"],
            "step": last["step"],
            "timestamp": _iso(last["timestamp"]),
            "retryCount": max(0, self.attempts.get(last["step"], 1) - 1),
        }

    def metrics(
        self, total_ms: float, recorded: Sequence[Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The run's metrics; `recorded` (the handoffs the agents wrote for this run) adds what
        the history does not show: a Distributed Map's items and their earlier attempts."""
        done = [h for h in (recorded or self.handoffs) if not h.get("skipped")]
        unseen = sum(
            max(0, int(h.get("attempt") or 1) - 1)
            for h in done
            if h.get("step") not in self.attempts
        )
        return {
            "totalExecutionTime": total_ms,
            "averageAgentTime": fmean(float(h.get("durationMs", 0)) for h in done) if done else 0,
            "successfulHandoffs": len(done),
            "failedHandoffs": len(self.failures) + unseen,
            "stateTransitions": self.transitions,
        }

    def last_data(self) -> dict[str, Any]:
        """The workflow data as last assigned (for a run that did not complete)."""
        for event in reversed(self.events):
            assigned = details(event).get("assignedVariables", {})
            if "data" in assigned:
                value = _json(assigned["data"])
                return value if isinstance(value, dict) else {}
        return {}


def _billed_transitions(event: Mapping[str, Any]) -> int:
    """Every state entered is a transition, a Task's counted at each TaskScheduled (so each
    retry counts)."""
    kind = str(event["type"])
    if kind.endswith("StateEntered"):
        return int(kind != "TaskStateEntered")
    return int(kind == "TaskScheduled")


def _step(payload: Mapping[str, Any]) -> str:
    """The step an agent task's payload runs (`step[index]` for one item of a fan-out)."""
    step = str(payload.get("step", payload["agent"]))
    if payload.get("index") is not None:
        step = f"{step}[{payload['index']}]"
    return step


def read_history(sfn: Any, run_arn: str) -> RunHistory:
    """A Standard run's whole history (GetExecutionHistory, every page)."""
    events: list[dict[str, Any]] = []
    request: dict[str, Any] = {"executionArn": run_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**request)
        events += page["events"]
        if not page.get("nextToken"):
            return RunHistory(events)
        request["nextToken"] = page["nextToken"]


def _iso(value: Any) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat(timespec="milliseconds")) if isoformat else str(value)
