"""`baton serve`: the API Lambda's own routes on http://127.0.0.1, over an offline deployment.

    LocalServer(runtime, key).serve_forever()

Requests become the API Gateway events the cloud's API Lambda receives, after the bearer token
is verified as API Gateway's Cognito authorizer would (here: a locally signed JWT, see
tokens.py). Status changes of the runs it starts, resumes, pauses or cancels are delivered to
the events handler as EventBridge would deliver them. A moto server on another port shows the
same offline AWS to boto3 and the AWS CLI (`--endpoint-url`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from baton.local.apigateway import rest_event
from baton.local.console.app import Console, console_request
from baton.local.fake_lambda import FakeLambdaContext
from baton.local.runtime import LocalRuntime
from baton.local.services import LocalServices
from baton.local.tokens import TokenError, verify
from baton_service.api import ApiService

MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""API Gateway's own limit; the API answers 413 past its 256 KiB before that."""


class DeliveringApiService(ApiService):
    """The API service, with each run it starts or stops followed to its end, its status
    events delivered (EventBridge's part in the cloud)."""

    def __init__(self, services: LocalServices) -> None:
        super().__init__(services.lifecycle, services.catalog, services.stats, services.region)
        self.services = services

    def _follow(self, record: dict[str, Any]) -> dict[str, Any]:
        args = (record["tenant"], record["executionId"])
        threading.Thread(target=self.services.settle, args=args, daemon=True).start()
        return record

    def start(
        self, tenant: str, workflow_id: str, data: Mapping[str, Any], **options: Any
    ) -> dict[str, Any]:
        return self._follow(super().start(tenant, workflow_id, data, **options))

    def cancel(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._follow(super().cancel(tenant, execution_id))

    def pause(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._follow(super().pause(tenant, execution_id))

    def resume(self, tenant: str, execution_id: str) -> dict[str, Any]:
        return self._follow(super().resume(tenant, execution_id))


class LocalApi:
    """HTTP request → verified claims → API Gateway event → the API's routes → response."""

    def __init__(self, runtime: LocalRuntime, key: str, console: Console | None = None):
        from api.routes import create_app

        self.service = DeliveringApiService(runtime.services)
        self.app = create_app(lambda: self.service)
        self.key = key
        self.console = console

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: str | None
    ) -> tuple[int, dict[str, str], str | bytes]:
        url = urlsplit(target)
        if url.path == "/favicon.ico":  # browsers ask for it; the API has none
            return HTTPStatus.NOT_FOUND, {}, ""
        if self.console is not None and (
            url.path == "/console" or url.path.startswith("/console/")
        ):
            return self.console.handle(console_request(method, url.path, url.query, headers, body))
        try:
            claims = verify(_header(headers, "Authorization"), self.key)
        except TokenError as err:
            return _json(HTTPStatus.UNAUTHORIZED, {"message": str(err)})
        event = rest_event(
            method,
            url.path,
            query=dict(parse_qsl(url.query)) or None,
            headers=dict(headers),
            body=body,
            claims=claims,
        )
        context: Any = FakeLambdaContext("baton-api")
        response = self.app.resolve(event, context)
        return int(response["statusCode"]), dict(response.get("headers") or {}), response["body"]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _json(status: int, body: Any) -> tuple[int, dict[str, str], str | bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: LocalApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        super().__init__((host, port), _RequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else a response's two writes wait on the client's ACK

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            status, headers, body = _json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"}
            )
            self.close_connection = True
        else:
            raw = self.rfile.read(length) if length else b""
            text = raw.decode("utf-8", errors="replace") if raw else None
            status, headers, body = self.server.api.handle(
                self.command, self.path, dict(self.headers.items()), text
            )
        data = body if isinstance(body, bytes) else (body or "").encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI prints its own
        pass
