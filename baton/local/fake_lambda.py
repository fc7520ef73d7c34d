"""Lambda as Step Functions meets it, offline: moto's Lambda invocations routed to the agents'
handlers in-process (`Dispatcher`), answered as Lambda answers.

- Each invocation gets its own request id (a UUID), in the context the handler sees, in the
  `x-amzn-RequestId` header and in an error's payload; the version that ran is in
  `X-Amz-Executed-Version`.
- An unhandled exception is the Python runtime's error payload: `errorMessage`, `errorType`,
  `requestId`, and a `stackTrace` of the function's own frames, its files as Lambda shows them
  (`/var/task/...` for the function's code, `/opt/python/...` for the layer), never the
  offline dispatcher's frames or this checkout's paths.
- The function's timeout is enforced (`Sandbox.Timedout`), a killed process is
  `Runtime.ExitError`, and concurrency limits and service faults answer as Lambda does.
- The `lambda:invoke` integration's result carries what AWS's does: `ExecutedVersion`,
  `Payload`, `SdkHttpMetadata`, `SdkResponseMetadata` and `StatusCode`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.core.exceptions import JsonRESTError

from baton.local.kept_threads import KeptThreads

Handler = Callable[[dict[str, Any], Any], Any]
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
OFFLINE_DIR = Path(__file__).resolve().parent
"""Frames of files here are the offline dispatcher's, not the function's."""
TASK_ROOT, LAYER_ROOT = "/var/task", "/opt/python"
REQUEST_ID_HEADER = "x-amzn-requestid"


class FakeLambdaContext:
    """The fields of Lambda's context object that handlers commonly read."""

    def __init__(self, function_name: str, memory: int = 256, timeout_s: int = 60) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def kill(self) -> None:
        """The process is gone: nothing it would still do counts (the agent runtime sees no
        time left and writes nothing)."""
        self._deadline = time.monotonic()


KILLED_AFTER_SECONDS = 0.05
"""How long a function killed by fault injection runs before its process dies."""


class TooManyRequests(JsonRESTError):
    """Lambda's answer when a function is at its concurrency limit."""

    code = 429

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(
            "TooManyRequestsException",
            f"Rate Exceeded: {function_name} is at its concurrency limit of {limit}",
        )


class ServiceFault(JsonRESTError):
    """Lambda failing to run an invocation at all (HTTP 500), as the service now and then does."""

    code = 500

    def __init__(self, function_name: str) -> None:
        super().__init__("ServiceException", f"Lambda could not run {function_name} this time")


class Dispatcher:
    """Routes moto's Lambda invocations to in-process handlers, by function name."""

    def __init__(self) -> None:
        self.faults: dict[str, list[str]] = {}
        """Service faults to answer a function's next invocations with (fault injection)."""
        self.handlers: dict[str, Handler] = {}
        self.contexts: dict[str, tuple[int, int]] = {}
        self.pools: dict[str, tuple[threading.BoundedSemaphore, int]] = {}
        self.aliases: dict[tuple[str, str], str] = {}
        """(function, alias) → the version the alias points to."""
        self.threads: dict[str, KeptThreads] = {}
        """Each function's threads: one whose invocation returned runs the next, as Lambda keeps
        an environment warm (never another function's, nor one still busy)."""

    def executed_version(self, function_name: str, qualifier: str | None) -> str:
        """The version an invocation runs: `$LATEST` unqualified, a version as given, an alias's
        version."""
        if not qualifier or qualifier == "$LATEST":
            return "$LATEST"
        return (
            qualifier
            if qualifier.isdigit()
            else self.aliases.get((function_name, qualifier), qualifier)
        )

    def register(
        self,
        function_name: str,
        handler: Handler,
        memory: int = 256,
        timeout_s: int = 60,
        max_concurrency: int | None = None,
    ) -> None:
        self.handlers[function_name] = handler
        self.contexts[function_name] = (memory, timeout_s)
        self.threads.setdefault(function_name, KeptThreads(f"lambda:{function_name}"))
        if max_concurrency:
            self.pools[function_name] = (
                threading.BoundedSemaphore(max_concurrency),
                max_concurrency,
            )

    def close(self) -> None:
        """End every function's idle threads (the offline runtime closes)."""
        for threads in self.threads.values():
            threads.close()

    def handles(self, function_name: str) -> bool:
        """Whether invocations of the function (a name or an ARN) have a handler here."""
        return function_name_of(function_name) in self.handlers

    def invoke(
        self,
        function_name: str,
        body: Any,
        response_headers: dict[str, Any],
        qualifier: str | None = None,
    ) -> bytes:
        name = function_name_of(function_name)
        parts = function_name.split(":")
        qualifier = qualifier or (parts[7] if len(parts) > 7 else None)
        response_headers["X-Amz-Executed-Version"] = self.executed_version(name, qualifier)
        handler = self.handlers.get(name)
        if handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return _error_payload(LookupError(f"no local handler for function {name}"), "")
        queued = self.faults.get(name)
        fault = queued.pop(0) if queued else None
        if fault in ("ServiceException", "TooManyRequestsException"):
            raise ServiceFault(name) if fault == "ServiceException" else TooManyRequests(name, 0)
        pool = self.pools.get(name)
        if pool is not None and not pool[0].acquire(blocking=False):
            raise TooManyRequests(name, pool[1])
        try:
            return self._call(name, handler, body, response_headers, killed=fault == "Killed")
        finally:
            if pool is not None:
                pool[0].release()

    def _call(
        self,
        name: str,
        handler: Handler,
        body: Any,
        response_headers: dict[str, Any],
        *,
        killed: bool = False,
    ) -> bytes:
        """Call the handler as Lambda does, and stop waiting at the function's timeout:
        Lambda then reports `Sandbox.Timedout`. (Lambda also kills the function; a thread
        cannot be killed, so the late attempt goes on: the agent runtime's deadline check
        keeps it from writing anything.) `killed`: the process dies while the function
        works (out of memory, a crash of the runtime): Lambda reports `Runtime.ExitError`."""
        event = json.loads(body) if body else {}
        memory, timeout_s = self.contexts[name]
        context = FakeLambdaContext(name, memory, timeout_s)
        response_headers[REQUEST_ID_HEADER] = context.aws_request_id
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                outcome["result"] = handler(event, context)
            except Exception as err:  # Lambda reports any exception as a function error
                outcome["error"] = err
            finally:
                done.set()

        threads = self.threads.get(name) or self.threads.setdefault(
            name, KeptThreads(f"lambda:{name}")
        )
        threads.run(call)
        if killed and not done.wait(KILLED_AFTER_SECONDS):
            context.kill()
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {context.aws_request_id} Error: Runtime exited "
                    "with error: signal: killed",
                }
            ).encode()
        if not done.wait(timeout_s):
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {context.aws_request_id} Error: "
                    f"Task timed out after {timeout_s:.2f} seconds",
                }
            ).encode()
        if "error" in outcome:
            response_headers["x-amz-function-error"] = "Unhandled"
            return _error_payload(outcome["error"], context.aws_request_id)
        return json.dumps(outcome["result"], default=str).encode()


def function_name_of(function_name: str) -> str:
    """The function's name, from its name or its ARN (`arn:aws:lambda:...:function:NAME[:Q]`)."""
    return function_name.split(":")[6] if function_name.startswith("arn:") else function_name


def _lambda_path(filename: str) -> str:
    """A file as Lambda shows it: the function's code under /var/task, the layer's packages
    under /opt/python."""
    path = Path(filename)
    if path.is_relative_to(FUNCTIONS_DIR):
        return f"{TASK_ROOT}/{path.relative_to(FUNCTIONS_DIR)}"
    for root in sys.path:
        if root and "site-packages" in root and path.is_relative_to(root):
            return f"{LAYER_ROOT}/{path.relative_to(root)}"
    return filename


def function_frames(err: BaseException) -> list[str]:
    """The traceback of `err` as the Python runtime reports it, from the function's own code:
    the offline dispatcher's frames left out."""
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if not Path(frame.filename).resolve().is_relative_to(OFFLINE_DIR)
    ]
    for frame in frames:
        frame.filename = _lambda_path(frame.filename)
    return traceback.format_list(frames)


def _error_payload(err: BaseException, request_id: str) -> bytes:
    """The payload the Python Lambda runtime returns for an unhandled exception."""
    return json.dumps(
        {
            "errorMessage": str(err),
            "errorType": type(err).__name__,
            "requestId": request_id,
            "stackTrace": function_frames(err),
        }
    ).encode()


def integration_result(response: dict[str, Any]) -> dict[str, Any]:
    """The `lambda:invoke` integration's result as AWS gives it, from Lambda's answer as the SDK
    parsed it (moto kept only StatusCode and Payload)."""
    metadata = response.get("ResponseMetadata") or {}
    headers = {str(k): str(v) for k, v in (metadata.get("HTTPHeaders") or {}).items()}
    return {
        "ExecutedVersion": response.get("ExecutedVersion") or "$LATEST",
        "Payload": response.get("Payload"),
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": metadata.get("HTTPStatusCode", response.get("StatusCode", 200)),
        },
        "SdkResponseMetadata": {"RequestId": metadata.get("RequestId", "")},
        "StatusCode": response.get("StatusCode", 200),
    }
