"""Count the requests of an offline run that AWS would bill, to check `baton cost` against.

moto answers every request through one hook, its BotocoreStubber; `metered()` wraps that hook
while it is open and counts each request under `service.Operation`, with the items of each
TransactWriteItems, the entries of each PutEvents, and the writes to the executions table's
indexes that each successful write costs (moto bills none: baton.local.index_writes). The state
machine's Lambda invocations, which offline skip the HTTP round trip
(baton.local.seams.lambda_invocations), are counted where they are made.

Only what runs in AWS is counted: the API's start (LifecycleService.start), the events function
(StatusChangeHandler.handle), the agents (their handler), and the state machine's own calls
(a Lambda invocation, a DynamoDB task: moto's interpreter makes them). What the offline harness
does to stand in for AWS (waiting for a run, reading its status to emulate the status-change
event, draining the event tap) is not. An agent's own requests (what it keeps and takes in its
execution's stash, any AWS call of its code) are counted apart: `baton cost` cannot know them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from baton.local.index_writes import index_writes

PROJECT = Path(__file__).resolve().parents[2]
STATE_MACHINE = f"{os.sep}moto{os.sep}stepfunctions{os.sep}"
"""moto's Step Functions interpreter: a state machine's own calls come from its frames."""
SERVICE_CODE = tuple(str(PROJECT / "functions" / name) for name in ("baton_agent", "baton_service"))
STASH = str(PROJECT / "functions" / "baton_agent" / "stash.py")
ENTRY_POINTS = frozenset(
    {
        ("lifecycle.py", "LifecycleService.start"),
        ("events.py", "StatusChangeHandler.handle"),
        ("runtime.py", "agent.<locals>.wrap.<locals>.handler"),
    }
)
"""The code that runs in AWS: the API's start, the events function, an agent's handler."""


Source = Literal["baton", "agent"]


@dataclass
class Meter:
    requests: Counter[str] = field(default_factory=Counter)
    """Baton's own billed requests (what `baton cost` counts)."""
    agents_own: Counter[str] = field(default_factory=Counter)
    """The agents' own: their stash, their code's AWS calls."""
    transaction_items: int = 0
    event_entries: int = 0
    index_writes: int = 0
    """Writes to the executions table's indexes that Baton's writes cost (index_writes)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, source: Source, operation: str, body: Any) -> None:
        with self._lock:
            if source == "agent":
                self.agents_own[operation] += 1
                return
            self.requests[operation] += 1
            if operation == "dynamodb.TransactWriteItems":
                self.transaction_items += len(_json(body).get("TransactItems", ()))
            elif operation == "eventbridge.PutEvents":
                self.event_entries += len(_json(body).get("Entries", ()))

    def written(self, operation: str, body: Any) -> None:
        """A write of Baton's succeeded: count the index writes it cost."""
        service, _, action = operation.partition(".")
        if service == "dynamodb":
            writes = index_writes(action, _json(body))
            with self._lock:
                self.index_writes += writes


def _json(body: Any) -> dict[str, Any]:
    value = json.loads(body or b"{}")
    return value if isinstance(value, dict) else {}


def billed(frame: FrameType | None) -> Source | None:
    """Who makes the request made from `frame`, if AWS bills it (see the module's description):
    None for the offline harness."""
    in_state_machine = False
    deepest: str | None = None
    """The file of the innermost frame of project code (or of an agent's module)."""
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if (Path(filename).name, code.co_qualname) in ENTRY_POINTS:
            own = deepest is not None and (deepest == STASH or not deepest.startswith(SERVICE_CODE))
            return "agent" if own else "baton"
        if deepest is None and "/site-packages/" not in filename and "/lib/python" not in filename:
            deepest = filename
        in_state_machine = in_state_machine or STATE_MACHINE in filename
        frame = frame.f_back
    return "baton" if in_state_machine else None


@contextlib.contextmanager
def metered() -> Iterator[Meter]:
    """Count the billed requests made while open (moto must be mocking AWS)."""
    from moto.core.botocore_stubber import BotocoreStubber

    from baton.local.seams.lambda_invocations import InProcessLambda

    meter = Meter()
    original = BotocoreStubber.__call__
    invoke = InProcessLambda.invoke

    def counting(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        source = billed(sys._getframe(1)) if self.enabled else None
        operation = event_name.removeprefix("before-send.")
        if source is not None:
            meter.count(source, operation, request.body)
        response = original(self, event_name, request, **kwargs)
        if source == "baton" and getattr(response, "status_code", None) == 200:
            meter.written(operation, request.body)
        return response

    def invoking(self: Any, **params: Any) -> Any:
        source = billed(sys._getframe(1))
        if source is not None:
            meter.count(source, "lambda.Invoke", None)
        return invoke(self, **params)

    BotocoreStubber.__call__ = counting  # type: ignore[method-assign]
    InProcessLambda.invoke = invoking  # type: ignore[method-assign]
    try:
        yield meter
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        InProcessLambda.invoke = invoke  # type: ignore[method-assign]


@dataclass(frozen=True)
class MeasuredRun:
    """One execution run offline through the lifecycle, with what it made AWS do."""

    status: str
    meter: Meter
    transitions: int | None
    """As the record's metrics count them from the run's history (None for an Express run,
    which has no history, and whose transitions are not billed)."""
    failed_attempts: int


def measure(runtime: Any, compiled: Any, data: dict[str, Any] | None = None) -> MeasuredRun:
    """Run the workflow once through the lifecycle (a LocalRuntime) and count what it bills."""
    from baton_service.record import ExecutionRecord, Metrics

    runtime.deploy(compiled)  # deploying is not part of an execution's bill
    with metered() as meter:
        record = ExecutionRecord.model_validate(runtime.execute(compiled, data))
    metrics = record.metrics or Metrics()
    express = compiled.workflow.type == "express"
    transitions = None if express else metrics.state_transitions
    return MeasuredRun(record.status, meter, transitions, metrics.failed_handoffs)
