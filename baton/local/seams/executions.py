"""Executions offline as Step Functions keeps them: stopped, found, ended and described as in
AWS, at a cost that does not grow with the executions moto has seen."""

from __future__ import annotations

import functools
import json
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, cast

from moto.stepfunctions.models import StateMachine, StepFunctionBackend
from moto.stepfunctions.parser.api import (
    ExecutionAbortedEventDetails,
    ExecutionStatus,
    ExecutionTimedOutEventDetails,
    HistoryEventType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning, ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import (
    StepFunctionsParserBackend,
    stepfunctions_parser_backends,
)
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

from baton.local.seams.adaptation import Adaptation

SCALE = "tests/functional/test_offline_scale.py"
SEAMS = "tests/functional/test_seams.py"
FIDELITY = "tests/functional/test_offline_fidelity.py"


def _stop_before_start(original: Callable[..., None]) -> Callable[..., None]:
    """Environment.set_stop, also for a run whose program has not started yet: moto ignored a
    StopExecution that came between the run's start and its first state (the run went on,
    and its agents' writes were refused as the record was cancelled), where AWS aborts it."""

    def set_stop(env: Any, stop_date: Any, cause: str | None, error: str | None) -> None:
        with env._state_mutex:
            if env._program_state is None:
                env._program_state = ProgramRunning()  # type: ignore[no-untyped-call]
        original(env, stop_date, cause, error)

    return set_stop


def _no_next_state_once_stopped(original: property) -> property:
    """Environment.next_state_name, whose setter leaves a stopped run stopped: the program
    sets its first state after a stop that came before it started, and then ends as aborted."""

    def set_next(env: Any, name: str) -> None:
        if isinstance(env._program_state, ProgramStopped):
            return
        original.fset(env, name)  # type: ignore[misc]

    return property(original.fget, set_next)


ENDED = "_baton_ended"
"""Set on a run's EventManager once its history has ended (stop-ends-the-run-at-once)."""
_LOCKS = threading.Lock()


def _history_lock(manager: Any) -> Any:
    """The lock under which a run's history is ended, and its events are logged (reentrant:
    the ending event is logged under it)."""
    lock = manager.__dict__.get("_baton_lock")
    if lock is None:
        with _LOCKS:
            lock = manager.__dict__.setdefault("_baton_lock", threading.RLock())
    return lock


def _end_history(env: Any, event_type: Any, details: Any, *, from_start: bool = False) -> bool:
    """Log the run's ending event now, as the last of its history (False: it has ended
    already, or has not logged ExecutionStarted yet and will end on its own at once)."""
    manager = env.event_manager
    with _history_lock(manager):
        if manager.__dict__.get(ENDED) or not manager._history_event_list:
            return False
        if from_start:  # as moto logs ExecutionAborted
            env.event_history_context.source_event_id = 0
        manager.add_event(
            context=env.event_history_context, event_type=event_type, event_details=details
        )
        manager.__dict__[ENDED] = True
    return True


def _nothing_after_the_end(original: Callable[..., int]) -> Callable[..., int]:
    """EventManager.add_event, which logs nothing once the run's history has ended: what the
    interrupted state does afterwards (its Lambda's late TaskSucceeded, say) is not the run's."""

    def add_event(manager: Any, *args: Any, **kwargs: Any) -> int:
        with _history_lock(manager):
            if manager.__dict__.get(ENDED):
                events = manager._history_event_list
                return int(events[-1]["id"]) if events else 0
            return original(manager, *args, **kwargs)

    return add_event


def _aborted_at_once(original: Callable[..., None]) -> Callable[..., None]:
    """ExecutionWorker.stop, which ends the run then and there, as AWS does: ABORTED, its
    ExecutionAborted event logged, its end announced. moto ended it only once the state under
    way returned (a Task: when its Lambda function did, minutes later for a slow agent), and
    logged what that state did after the stop."""

    def stop(worker: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
        original(worker, stop_date, error, cause)
        env = worker.env
        state = env.program_state()
        if not isinstance(state, ProgramStopped):
            return  # it had ended already
        details = ExecutionAbortedEventDetails(error=state.error, cause=state.cause)
        aborted = EventDetails(executionAbortedEventDetails=details)  # type: ignore[typeddict-item]
        if _end_history(env, HistoryEventType.ExecutionAborted, aborted, from_start=True):
            worker._execution_communication.terminated()

    return stop


def _timed_out_at_once(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """Environment.set_timed_out, which also logs the run's ExecutionTimedOut event then: moto
    reported the run TIMED_OUT at its timeout, but logged the event (after what the state
    under way did past the timeout) only once that state returned."""

    def set_timed_out(env: Any) -> None:
        original(env)
        if not env.is_frame():
            details = EventDetails(  # type: ignore[typeddict-item]
                executionTimedOutEventDetails=ExecutionTimedOutEventDetails()
            )
            _end_history(env, HistoryEventType.ExecutionTimedOut, details)

    return set_timed_out


def _terminated_once(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """The worker's `terminated`, once per run: a run ended by a stop or its timeout is
    terminated then, and again (ignored) when its program returns."""

    def terminated(worker: Any) -> None:
        with _LOCKS:
            if worker.__dict__.get(ENDED):
                return
            worker.__dict__[ENDED] = True
        original(worker)

    return terminated


class _MachineExecutions:
    """One state machine's executions by name and by ARN, as far as its list has been read:
    moto only appends to it, so each reading indexes the executions started since the last."""

    def __init__(self) -> None:
        self.read = 0
        self.by_name: dict[str, Any] = {}
        self.by_arn: dict[str, Any] = {}

    def catch_up(self, executions: list[Any]) -> None:
        if len(executions) < self.read:  # not moto's way: read it all again
            self.read = 0
            self.by_name.clear()
            self.by_arn.clear()
        started = executions[self.read :]  # one taking: a run appended meanwhile is next
        for execution in started:
            self.by_name.setdefault(execution.name, execution)  # moto's scan finds the first
            self.by_arn.setdefault(execution.execution_arn, execution)
        self.read += len(started)


class ExecutionIndex:
    """moto finds an execution by scanning the list of every execution its state machine ever
    started: for each DescribeExecution and GetExecutionHistory, and for each StartExecution (is
    there one of that name already?), so every start and lookup cost more as executions
    accumulated. Executions are found by ARN and by name instead (moto keeps them all anyway, as
    AWS keeps them for 90 days), for as long as the seams are in."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], Any] = {}
        self._machines: weakref.WeakKeyDictionary[Any, _MachineExecutions] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def of(self, machine: Any) -> _MachineExecutions:
        """The machine's executions, indexed up to the last one started."""
        with self._lock:
            index = self._machines.get(machine)
            if index is None:
                index = self._machines[machine] = _MachineExecutions()
            index.catch_up(machine.executions)
            return index

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def describe_execution(backend: Any, execution_arn: str) -> Any:
            key = (id(backend), execution_arn)
            found = self._found.get(key)
            if found is None:
                found = self._found[key] = self._by_arn(backend, execution_arn) or original(
                    backend, execution_arn
                )
            return found

        return describe_execution

    def _by_arn(self, backend: Any, execution_arn: str) -> Any:
        """The execution of that ARN, checked and found as moto finds it but by key; None when
        it is not there (moto's own lookup then says why: not found, an invalid ARN)."""
        try:
            backend._validate_execution_arn(execution_arn)
            machine = backend._get_state_machine_for_execution(execution_arn)
        except Exception:  # moto's lookup raises its own error
            return None
        return self.of(machine).by_arn.get(execution_arn)

    def by_name(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """StateMachine._handle_name_input_idempotency (the same name and input while running:
        that execution; else ExecutionAlreadyExists) over the one execution of that name."""

        def idempotency(machine: Any, name: str, execution_input: Any) -> Any:
            existing = self.of(machine).by_name.get(name)
            named = SimpleNamespace(executions=[existing] if existing is not None else [])
            return original(named, name, execution_input)

        return idempotency


def running_now(execution_arn: str) -> bool | None:
    """Whether the run of that ARN is RUNNING, read from the offline Step Functions' own record
    of it (the status DescribeExecution answers with) without a request: a waiter that has begun
    to watch for the run's end (Ends.watch) learns whether to wait before it describes the run,
    and describes it once, after its end. None when there is no such run (its DescribeExecution
    says why)."""
    parts = execution_arn.split(":")  # arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME
    if len(parts) < 8:
        return None
    try:
        execution = stepfunctions_parser_backends[parts[4]][parts[3]].describe_execution(
            execution_arn
        )
    except Exception:  # moto's own lookup refuses it: the request will say why
        return None
    return bool(execution.status == ExecutionStatus.RUNNING.value)


class Ends:
    """Wakes whoever waits for an execution when its worker ends (succeeded, failed, timed out
    or stopped: moto ends a stopped run once its current state returns). An event exists only
    while someone waits, so executions leave nothing behind here."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[threading.Event]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, execution_arn: str) -> Iterator[threading.Event]:
        """An event set when the execution ends. Check its status after entering: an end that
        came before the watch began sets nothing."""
        ended = threading.Event()
        with self._lock:
            self._waiting.setdefault(execution_arn, []).append(ended)
        try:
            yield ended
        finally:
            with self._lock:
                waiters = self._waiting[execution_arn]
                waiters.remove(ended)
                if not waiters:
                    del self._waiting[execution_arn]

    def ended(self, execution_arn: str) -> None:
        with self._lock:
            for waiter in self._waiting.get(execution_arn, ()):
                waiter.set()

    def watched(self) -> int:
        """How many executions someone is waiting for now."""
        with self._lock:
            return len(self._waiting)

    def wrap(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        """The worker's `terminated`, which also wakes the execution's waiters."""

        def terminated(worker: Any) -> None:
            original(worker)
            self.ended(worker.execution.exec_arn)

        return terminated


def _ended_threads_released(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """The worker's `terminated`, which also lets go of the threads that have ended: moto keeps
    every worker thread it starts in a module list (for LocalStack's tests to join), so each
    execution's threads stayed forever."""

    def terminated(worker: Any) -> None:
        original(worker)
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]

    return terminated


def _description_amended(
    amend: Callable[[dict[str, Any], Callable[[], Any]], None],
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """A change of DescribeExecution: moto's answer, then `amend(described, execution)`, where
    `execution()` looks the run up (only when an amendment needs it)."""

    def change(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def describe_execution(response: Any) -> Any:
            result = original(response)
            described = cast(dict[str, Any], result.result)
            backend = response.stepfunction_backend
            amend(described, lambda: backend.describe_execution(described["executionArn"]))
            return result

        return describe_execution

    return change


def _timed_out_stop_date(described: dict[str, Any], execution: Callable[[], Any]) -> None:
    """DescribeExecution of a TIMED_OUT run with its stopDate, as AWS reports it (moto keeps the
    date and leaves it out)."""
    if described.get("status") == "TIMED_OUT" and "stopDate" not in described:
        described["stopDate"] = execution().stop_date


def _string_output_as_json(described: dict[str, Any], execution: Callable[[], Any]) -> None:
    """DescribeExecution of a run whose output is a JSON string: the output as JSON text
    (`"done"`), as AWS gives every output; moto passed a string result through as it was."""
    if described.get("status") == "SUCCEEDED":
        run = execution()
        if isinstance(run.output, str) and getattr(run, "exec_worker", None):
            described["output"] = json.dumps(run.output, separators=(",", ":"))


def _no_parallel_succeeded_event(_original: Callable[[Any, Any], None]) -> Any:
    """StateParallel._eval_execution without the ParallelStateSucceeded event moto logs: AWS's
    recorded histories of a Parallel that succeeds go from its branches' events straight to
    ParallelStateExited (and the 25,000-event budget counts what AWS logs)."""

    def execute(state: Any, env: Any) -> None:
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.ParallelStateStarted,
        )
        state.branches.eval(env)

    return execute


def _named(original: Callable[..., Any]) -> Callable[..., Any]:
    """StartExecution without a name: the run is named with a UUID, as AWS names it. moto named
    it None (ARN `...:None`, `$states.context.Execution.Name` null), and took a second unnamed
    start with the same input for the first one (name and input idempotency)."""

    def start_execution(
        backend: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    return start_execution


def _heap_keys_once(original: property) -> property:
    """EvalComponent.heap_key, made once under a lock: moto makes a component's key (under
    which an execution keeps, e.g., a retrier's attempt count) on first use, unguarded, so two
    Map iterations reaching the same Retry at once could each make one, and the count kept
    under the lost key was read as no attempt at all: a member was retried past its
    MaxAttempts (a flaky extra attempt under load)."""
    lock = threading.Lock()

    def heap_key(component: Any) -> str:
        key = component._EvalComponent__heap_key
        if key is None:
            with lock:
                key = original.fget(component)  # type: ignore[misc]
        return str(key)

    return property(heap_key)


def _parsed_once(original: Callable[[str], Any]) -> Any:
    """The program and parse tree of a definition, built once per definition text while the
    seams are in: moto parsed a definition with ANTLR when the state machine was created and
    again at every execution start (~0.1 s for 10 steps).

    Sharing a program between executions is safe: moto already runs one program in many Map
    iterations at once; all execution state lives in each execution's Environment.
    """
    return staticmethod(functools.lru_cache(maxsize=64)(original))


def adaptations(ends: Ends, index: ExecutionIndex) -> list[Adaptation]:
    return [
        Adaptation(
            "stop-before-start",
            "a StopExecution that comes before the run's first state aborts the run",
            f"{SCALE}::test_a_run_stopped_before_its_first_state_is_aborted_as_in_aws",
            (
                (Environment, "set_stop", _stop_before_start),
                (Environment, "next_state_name", _no_next_state_once_stopped),
            ),
        ),
        Adaptation(
            "executions-by-arn",
            "(cost) an execution is found by its ARN, and a run's name checked for one already"
            " started, by key, not by scanning every execution",
            f"{SCALE}::test_an_execution_is_found_by_its_arn_not_by_scanning_every_execution",
            (
                (StepFunctionBackend, "describe_execution", index.wrap),
                (StateMachine, "_handle_name_input_idempotency", index.by_name),
            ),
        ),
        Adaptation(
            "ends-wake-waiters",
            "(cost) waiting for a run is woken by its end, not by polling",
            f"{SCALE}::test_waiting_for_a_run_is_woken_by_its_end_not_by_polling",
            ((BaseExecutionWorkerCommunication, "terminated", ends.wrap),),
        ),
        Adaptation(
            "ended-threads-released",
            "(cost) an ended execution's threads are let go",
            f"{SCALE}::test_an_ended_execution_leaves_nothing_behind",
            ((BaseExecutionWorkerCommunication, "terminated", _ended_threads_released),),
        ),
        Adaptation(
            "stop-ends-the-run-at-once",
            "a StopExecution or the run's timeout ends it then: ABORTED or TIMED_OUT, its last"
            " history event, its end announced; nothing the interrupted state does after is"
            " logged",
            f"{SCALE}::test_a_stop_ends_the_run_at_once_while_its_agent_still_runs",
            (
                (EventManager, "add_event", _nothing_after_the_end),
                (ExecutionWorker, "stop", _aborted_at_once),
                (Environment, "set_timed_out", _timed_out_at_once),
                (BaseExecutionWorkerCommunication, "terminated", _terminated_once),
            ),
        ),
        Adaptation(
            "timed-out-stop-date",
            "DescribeExecution of a TIMED_OUT run reports its stopDate",
            f"{SEAMS}::test_a_timed_out_run_is_described_with_its_stop_date",
            (
                (
                    StepFunctionResponse,
                    "describe_execution",
                    _description_amended(_timed_out_stop_date),
                ),
            ),
        ),
        Adaptation(
            "string-output-as-json",
            "DescribeExecution gives a string output as JSON text, as every output",
            f"{FIDELITY}::test_a_string_output_is_described_as_json",
            (
                (
                    StepFunctionResponse,
                    "describe_execution",
                    _description_amended(_string_output_as_json),
                ),
            ),
        ),
        Adaptation(
            "parallel-events-as-aws",
            "a Parallel state that succeeds logs no ParallelStateSucceeded event",
            f"{FIDELITY}::test_a_parallel_state_logs_the_events_aws_logs",
            ((StateParallel, "_eval_execution", _no_parallel_succeeded_event),),
        ),
        Adaptation(
            "unnamed-runs-named",
            "a run started without a name is named with a UUID, in its ARN and context object",
            f"{FIDELITY}::test_a_run_started_without_a_name_gets_one",
            ((StepFunctionsParserBackend, "start_execution", _named),),
        ),
        Adaptation(
            "retry-counts-kept",
            "a Retry's MaxAttempts holds when Map iterations fail at once (each iteration's"
            " attempts counted under one key)",
            f"{SEAMS}::test_a_component_key_is_made_once_when_iterations_reach_it_at_once",
            ((EvalComponent, "heap_key", _heap_keys_once),),
        ),
        Adaptation(
            "definitions-parsed-once",
            "(cost) a definition is parsed once, not at every execution start",
            f"{SEAMS}::test_a_definition_is_parsed_once_not_at_every_start",
            ((AmazonStateLanguageParser, "parse", _parsed_once),),
        ),
    ]
