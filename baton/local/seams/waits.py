"""The waits Step Functions applies, recorded and (unless real waits are asked for) skipped.

The retrier module's `time` and the Wait state's wait are replaced, so backoff waits (between
retries, before an auto-recovery resumes) are recorded and an offline run does not sit through
them. The global `time.sleep` is never touched. Throttling waits are always real: a throttled
retry that did not wait would only be throttled again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier_module
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)

from baton.local.seams.adaptation import Adaptation, to

THROTTLING_ERROR = "Lambda.TooManyRequestsException"


@dataclass(frozen=True)
class Wait:
    """A wait Step Functions applied: a backoff before retrying a state, or a Wait state (an
    auto-recovery's backoff before it resumes)."""

    execution_arn: str
    state: str
    seconds: float


class Waits:
    """Stand-in for the retrier module's `time`: records each wait, sleeps only if asked to."""

    def __init__(self, *, real: bool, listener: Callable[[Wait], None] | None) -> None:
        self.local = threading.local()
        self.real = real
        self.listener = listener

    def sleep(self, seconds: float) -> None:
        self.record(getattr(self.local, "env", None), seconds)
        if self.real or getattr(self.local, "throttled", False):
            time.sleep(seconds)

    def record(self, env: Any, seconds: float) -> None:
        if self.listener:
            self.listener(Wait(*_where(env), seconds=seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def retry_body(self, original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        """RetrierDecl._eval_body, telling `sleep` whose wait it is and whether it follows a
        throttle."""

        def retry(retrier: Any, env: Any) -> None:
            names = {getattr(e, "error_name", "") for e in retrier.error_equals.error_names}
            self.local.env, self.local.throttled = env, THROTTLING_ERROR in names
            try:
                original(retrier, env)
            finally:
                self.local.env, self.local.throttled = None, False

        return retry

    def wait_state(self, original: Callable[[Any, Any, int], None]) -> Callable[..., None]:
        """WaitFunction._wait_interval: the Wait state's wait, recorded and, unless real waits
        are asked for, skipped."""

        def wait_interval(function: Any, env: Any, wait_seconds: int) -> None:
            self.record(env, wait_seconds)
            if self.real:
                original(function, env, wait_seconds)

        return wait_interval


def _where(env: Any) -> tuple[str, str]:
    """The execution and the step a wait belongs to: the state, or for a Task that group
    members share, the member's step (its item's payload names it)."""
    try:
        data = env.states.context_object.context_object_data
        state = data["State"]["Name"]
        item = env.states.get_input()
        if isinstance(item, dict) and isinstance(item.get("payload"), dict) and "function" in item:
            state = str(item["payload"].get("step", state))
        return data["Execution"]["Id"], state
    except (AttributeError, KeyError, TypeError):
        return "", ""


def adaptations(waits: Waits) -> list[Adaptation]:
    return [
        Adaptation(
            "backoff-waits",
            "(offline speed) backoff and Wait-state waits are recorded with their step and"
            " skipped unless real waits are asked for; a throttled retry really waits",
            "tests/functional/test_execution.py::test_agent_failing_twice_then_succeeding",
            (
                (retrier_module, "time", to(waits)),
                (retrier_module.RetrierDecl, "_eval_body", waits.retry_body),
                (WaitFunction, "_wait_interval", waits.wait_state),
            ),
        )
    ]
