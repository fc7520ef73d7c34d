"""The local console (`baton serve` at /console): executions of every tenant, one execution's
graph, timeline and data, each workflow's definition, graph and cost, with buttons that start,
cancel, pause and resume through the REST API itself.

It is an operator's view of the offline deployment, as the Step Functions console is of an
account, so it serves 127.0.0.1 only: a request naming another host (a DNS-rebinding page) is
refused, and the one thing it writes (a tenant token for the buttons' API calls) needs the
console's per-server key in a header, which no cross-site form or request can send.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from baton.compiler.asl import CompiledWorkflow
from baton.compiler.graph import to_mermaid
from baton.local.console import pages
from baton.local.console.views import (
    all_executions,
    data_after_each_step,
    matching,
    state_statuses,
    timeline,
)
from baton_agent.keys import run_name
from baton_service.lifecycle import run_number

STATIC = Path(__file__).with_name("static")
MERMAID_JS = Path(__file__).resolve().parents[3] / "node_modules/mermaid/dist/mermaid.min.js"
"""Mermaid's browser bundle, from the npm packages `make install` puts in node_modules."""
KEY_HEADER = "X-Baton-Console"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript"}

Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: str | None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def _html(text: str, status: int = HTTPStatus.OK) -> Response:
    headers = {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS}
    return status, headers, text.encode("utf-8")


def _json(status: int, body: Any) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **SECURITY_HEADERS},
        json.dumps(body).encode(),
    )


class Console:
    """Routes /console requests; `issue(tenant)` makes the bearer token the buttons use."""

    def __init__(
        self,
        runtime: Any,
        workflows: Mapping[str, CompiledWorkflow],
        issue: Any,
        key: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.workflows = dict(workflows)
        self.issue = issue
        self.key = key or secrets.token_urlsafe(24)

    # routing ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        host = (request.header("Host") or "").rsplit(":", 1)[0]
        if host not in LOCAL_HOSTS:
            return _json(HTTPStatus.FORBIDDEN, {"message": "the console answers 127.0.0.1 only"})
        parts = [unquote(p) for p in request.path.removeprefix("/console").split("/") if p]
        if request.method == "POST" and parts == ["token"]:
            return self._token(request)
        if request.method != "GET":
            return _json(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "the console only reads"})
        if not parts or parts == ["executions"]:
            return self._executions(request.query)
        if parts == ["rows"]:
            return _html(pages.execution_rows(self._records(request.query)))
        if parts == ["workflows"]:
            return self._workflow_list()
        if len(parts) == 2 and parts[0] == "workflows":
            return self._workflow(parts[1])
        if len(parts) == 3 and parts[0] == "executions":
            return self._execution(parts[1], parts[2])
        if len(parts) == 2 and parts[0] == "static":
            return self._static(parts[1])
        return _html(pages.not_found_page(f"no console page {request.path}", self.key), 404)

    # pages --------------------------------------------------------------------------------
    def _all_records(self) -> list[dict[str, Any]]:
        return all_executions(
            self.runtime.dynamodb, self.runtime.manifest.tables["executions"].name
        )

    def _records(self, query: Mapping[str, str]) -> list[Mapping[str, Any]]:
        return matching(self._all_records(), query)

    def _executions(self, query: Mapping[str, str]) -> Response:
        everything = self._all_records()  # one scan: the list and the tenants to filter by
        records = matching(everything, query)
        tenants = sorted({str(r.get("tenant")) for r in everything} | {"default"})
        page = pages.executions_page(
            records, _filters(query), sorted(self.workflows), tenants, self.key
        )
        return _html(page)

    def _workflow_list(self) -> Response:
        listed = [
            {
                "workflowId": w.workflow.id,
                "name": w.workflow.name,
                "type": w.workflow.type,
                "description": w.workflow.description,
            }
            for w in self.workflows.values()
        ]
        return _html(pages.workflows_page(listed, self.key))

    def _workflow(self, workflow_id: str) -> Response:
        compiled = self.workflows.get(workflow_id)
        if compiled is None:
            return _html(pages.not_found_page(f"no workflow {workflow_id!r}", self.key), 404)
        from baton.deploy.cost import Assumptions, cost_report

        workflow = compiled.workflow
        entry = {
            "workflowId": workflow.id,
            "name": workflow.name,
            "description": workflow.description,
            "definition": workflow.definition_as_written(),
        }
        cost = cost_report(workflow, {}, Assumptions()).to_json()
        recent = self._records({"workflow": workflow_id})[:10]
        page = pages.workflow_page(entry, to_mermaid(compiled.asl), cost, recent, self.key)
        return _html(page)

    def _execution(self, tenant: str, execution_id: str) -> Response:
        from baton_service.exceptions import LifecycleError

        try:
            record = self.runtime.services.lifecycle.get(tenant, execution_id)
        except LifecycleError as error:
            return _html(pages.not_found_page(str(error), self.key), 404)
        compiled = self.workflows.get(str(record.get("workflowId")))
        if compiled is None:
            return _html(pages.not_found_page("its workflow is not deployed", self.key), 404)
        entries = []
        for run in record.get("runs") or []:
            handoffs = [h for h in record.get("handoffs") or [] if h.get("run") in (run, None)]
            entries += timeline(
                handoffs, self._failures(run), self._waits(run), run_number(run_name(run))
            )
        statuses = state_statuses(compiled, record)
        page = pages.execution_page(
            record,
            to_mermaid(compiled.asl, statuses),
            entries,
            data_after_each_step(record.get("input") or {}, record.get("handoffs") or []),
            self.key,
        )
        return _html(page)

    def _failures(self, run: str) -> list[dict[str, Any]]:
        """The run's failed attempts, from its history (an Express run's as its logs show)."""
        from baton.local.seams.express_runs import inspecting
        from baton_service.history import RunHistory

        try:
            with inspecting():
                return RunHistory(self.runtime.history(run)).failures
        except Exception:  # a run the emulator no longer has (restored from a saved state)
            return []

    def _waits(self, run: str) -> list[tuple[str, float]]:
        return list(self.runtime.backoff_waits(run))

    def _static(self, name: str) -> Response:
        files = {
            "console.css": STATIC / name,
            "console.js": STATIC / name,
            "mermaid.min.js": MERMAID_JS,
        }
        path = files.get(name)
        if path is None or not path.is_file():
            return _json(HTTPStatus.NOT_FOUND, {"message": f"no file {name}"})
        kind = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        headers = {"Content-Type": f"{kind}; charset=utf-8", **SECURITY_HEADERS}
        headers["Cache-Control"] = "max-age=3600"
        return HTTPStatus.OK, headers, path.read_bytes()

    # the one write ------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        if not secrets.compare_digest(request.header(KEY_HEADER) or "", self.key):
            return _json(
                HTTPStatus.FORBIDDEN, {"message": f"the console's {KEY_HEADER} is missing"}
            )
        try:
            tenant = json.loads(request.body or "{}").get("tenant", "")
            return _json(HTTPStatus.OK, {"token": self.issue(str(tenant))})
        except (json.JSONDecodeError, AttributeError, ValueError) as error:  # TokenError too
            return _json(HTTPStatus.BAD_REQUEST, {"message": f"tenant: {error}"})


def _filters(query: Mapping[str, str]) -> dict[str, str]:
    return {k: query.get(k, "") for k in ("workflow", "tenant", "status")}


def console_request(
    method: str, path: str, query: str, headers: Mapping[str, str], body: str | None
) -> Request:
    return Request(method, path, dict(parse_qsl(query)), headers, body)
