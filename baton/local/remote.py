"""`baton run --server URL`: a run on a running `baton serve`, through its REST API, as any
client would start and watch one. The server keeps its cache and executions between runs, so a
cached result is reused by the next run; `--state` keeps them across its restarts too."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

FINAL = ("completed", "failed", "cancelled", "paused")
"""Statuses a run ends in (a paused execution waits for a resume: the command ends too)."""
POLL_SECONDS = 0.2


class ServerError(RuntimeError):
    """The server could not be reached, or refused the request (its message included)."""


class BatonServer:
    """The REST API of a `baton serve`, with a bearer token for one tenant."""

    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", errors="replace")
            try:
                message = json.loads(text).get("message", text)
            except (json.JSONDecodeError, AttributeError):
                message = text
            return error.code, {"message": message}
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(
                f"cannot reach {self.url}: {reason} (is `baton serve` running?)"
            ) from error

    def _ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.request(method, path, body)
        if status >= 400:
            raise ServerError(f"{method} {path}: {status} {answer.get('message', answer)}")
        return answer

    def workflow(self, workflow_id: str) -> dict[str, Any] | None:
        status, answer = self.request("GET", f"/workflows/{quote(workflow_id, safe='')}")
        if status == 404:
            return None
        if status >= 400:
            raise ServerError(f"GET /workflows/{workflow_id}: {status} {answer.get('message')}")
        return dict(answer)

    def start(
        self, workflow_id: str, data: Mapping[str, Any], *, no_cache: bool = False
    ) -> dict[str, Any]:
        body = {"input": dict(data), "noCache": no_cache}
        return dict(self._ok("POST", f"/workflows/{quote(workflow_id, safe='')}/executions", body))

    def execution(self, execution_id: str) -> dict[str, Any]:
        """The execution's record, as stored (the API shows each run with its console URL)."""
        view = dict(self._ok("GET", f"/executions/{quote(execution_id, safe='')}"))
        runs = view.get("runs") or []
        view["runs"] = [r["executionArn"] if isinstance(r, Mapping) else r for r in runs]
        return view

    def follow(
        self,
        execution_id: str,
        on_handoff: Callable[[Mapping[str, Any]], None],
        timeout: float = 3600.0,
    ) -> dict[str, Any]:
        """Poll the execution until it ends, calling `on_handoff` once per new handoff."""
        seen = 0
        deadline = time.monotonic() + timeout
        while True:
            record = self.execution(execution_id)
            handoffs = record.get("handoffs") or []
            for handoff in handoffs[seen:]:
                on_handoff(handoff)
            seen = max(seen, len(handoffs))
            if record.get("status") in FINAL:
                return record
            if time.monotonic() > deadline:
                raise ServerError(f"execution {execution_id} had not ended after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
