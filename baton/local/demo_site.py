"""A small website on 127.0.0.1 for the example agents: the demo and the tests point them at it.

It has what the reference document's workflows need: a login form with a session cookie, an
orders page behind the login, competitor catalogs (one can be made to fail), a mirror, a product
page whose price can be changed, a JSON API, and two receivers (a signed webhook, a Slack
incoming webhook) that record what they get. Every request is counted, so a test can tell
whether an agent really went to the site.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from baton.definition.resolved import ResolvedWorkflow

Product = tuple[str, str]


def _default_catalogs() -> dict[str, list[Product]]:
    return {
        "competitor1": [("Trail shoe", "$119.00"), ("Rain jacket", "$89.50")],
        "competitor2": [("Trail shoe", "$109.99"), ("Rain jacket", "$94.00")],
        "competitor3": [("Trail shoe", "$124.00"), ("Rain jacket", "$79.90")],
        "outlet": [("Trail shoe", "$99.00"), ("Rain jacket", "$84.00")],
        "marketplace": [("Trail shoe", "$131.00"), ("Rain jacket", "ask for price")],
    }


PLACEHOLDER_URL = "http://demo-site.local"
"""The `baseUrl` the shipped workflows name; `baton run`, `demo` and `serve` serve the demo site
and point the workflows at its real address (DemoSite.point)."""
PLACEHOLDER_HOST = "demo-site.local"
MAX_SLOW_SECONDS = 20
"""The longest a `/slow/<seconds>/...` page keeps a client waiting."""


@dataclass
class DemoSite:
    username: str = "user@example.com"
    password: str = "demo-password-123"
    orders: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"order": "A-1001", "customer": "Acme Corp", "total": "1250.00"},
            {"order": "A-1002", "customer": "Globex", "total": "310.50"},
            {"order": "A-1003", "customer": "Initech", "total": "98.99"},
        ]
    )
    catalogs: dict[str, list[Product]] = field(default_factory=_default_catalogs)
    prices: dict[str, float] = field(default_factory=lambda: {"espresso": 84.99})
    down: set[str] = field(default_factory=lambda: {"/catalog/outlet"})
    """Paths that answer 503, to make an agent fail (the outlet's own page; its mirror works)."""
    requests: Counter[str] = field(default_factory=Counter)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a background thread; return the base URL."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site._handle(self, "GET")

            def do_POST(self) -> None:
                site._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the counters are the log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the demo site is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def point(self, workflow: ResolvedWorkflow) -> ResolvedWorkflow:
        """The workflow aimed at this site: its `baseUrl` and any `allowedHosts` entry naming
        the placeholder host become this site's address (a definition change, as a user would
        make it: the run's input alone may not say where a secret goes)."""
        if workflow.initial_data.get("baseUrl") != PLACEHOLDER_URL:
            return workflow
        host = urlsplit(self.base_url).netloc
        return replace(
            workflow,
            initial_data={**workflow.initial_data, "baseUrl": self.base_url},
            allowed_hosts=tuple(
                host if h == PLACEHOLDER_HOST else h for h in workflow.allowed_hosts
            ),
        )

    def count(self, prefix: str) -> int:
        """Requests whose 'METHOD /path' starts with `prefix` ('GET /catalog', 'POST /login')."""
        return sum(n for key, n in self.requests.items() if key.startswith(prefix))

    # routing ---------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(request.path).path
        self.requests[f"{method} {path}"] += 1
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        slow = re.match(r"^/slow/(\d{1,2})(/.*)$", path)
        if slow:  # `/slow/<seconds>/<path>`: the page, answered late (to watch a run live)
            time.sleep(min(int(slow.group(1)), MAX_SLOW_SECONDS))
            path = slow.group(2)
        if path in self.down:
            return _send(request, 503, "text/plain", "temporarily unavailable")
        route = (method, path.split("/")[1] if path.count("/") >= 1 else "")
        handlers = {
            ("GET", "login"): self._login_form,
            ("POST", "login"): self._login,
            ("GET", "orders"): self._orders,
            ("GET", "catalog"): self._catalog,
            ("GET", "mirror"): self._catalog,
            ("GET", "products"): self._product,
            ("GET", "api"): self._api,
            ("POST", "hooks"): self._hook,
        }
        handler = handlers.get(route)
        if handler is None:
            return _send(request, 404, "text/plain", "not found")
        handler(request, path, body)

    def _login_form(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        _send(
            request,
            200,
            "text/html",
            _page(
                "Sign in",
                '<form method="post"><input name="username">'
                '<input name="password" type="password"><button>Sign in</button></form>',
            ),
        )

    def _login(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("username") != self.username or form.get("password") != self.password:
            return _send(request, 401, "text/plain", "wrong username or password")
        token = secrets.token_hex(16)
        self.sessions.add(token)
        _send(
            request,
            303,
            "text/plain",
            "",
            {"Set-Cookie": f"session={token}; HttpOnly; Path=/", "Location": "/orders"},
        )

    def _signed_in(self, request: BaseHTTPRequestHandler) -> bool:
        cookie = SimpleCookie(request.headers.get("Cookie") or "")
        return "session" in cookie and cookie["session"].value in self.sessions

    def _orders(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        if not self._signed_in(request):
            return _send(request, 401, "text/plain", "sign in first")
        head = "<tr><th>order</th><th>customer</th><th>total</th></tr>"
        rows = "".join(
            f'<tr class="order"><td class="id">{html.escape(o["order"])}</td>'
            f'<td class="customer">{html.escape(o["customer"])}</td>'
            f'<td class="total">{html.escape(o["total"])}</td></tr>'
            for o in self.orders
        )
        _send(request, 200, "text/html", _page("Monthly orders", f"<table>{head}{rows}</table>"))

    def _catalog(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        site = path.rstrip("/").rsplit("/", 1)[-1]
        products = self.catalogs.get(site)
        if products is None:
            return _send(request, 404, "text/plain", "no such catalog")
        items = "".join(
            f'<li class="product"><span class="name">{html.escape(n)}</span> '
            f'<span class="price">{html.escape(p)}</span></li>'
            for n, p in products
        )
        _send(request, 200, "text/html", _page(f"{site} catalog", f"<ul>{items}</ul>"))

    def _product(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        slug = path.rstrip("/").rsplit("/", 1)[-1]
        if slug not in self.prices:
            return _send(request, 404, "text/plain", "no such product")
        content = f'<div class="product"><h1>{html.escape(slug)}</h1><span class="price">${self.prices[slug]:.2f}</span></div>'
        _send(request, 200, "text/html", _page(slug, content))

    def _api(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        payload = {
            "orders": [
                {"id": o["order"], "customer": {"name": o["customer"]}, "total": float(o["total"])}
                for o in self.orders
            ]
        }
        _send(request, 200, "application/json", json.dumps(payload))

    def _hook(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            return _send(request, 400, "text/plain", "not JSON")
        received = {"headers": dict(request.headers.items()), "body": parsed, "raw": body.decode()}
        if path == "/hooks/slack":
            self.slack.append(received)
            return _send(request, 200, "text/plain", "ok")
        self.webhooks.append(received)
        _send(request, 202, "application/json", json.dumps({"received": True}))


def _page(title: str, content: str) -> str:
    return f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>{content}</body></html>"


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    body: str,
    headers: dict[str, str] | None = None,
) -> None:
    data = body.encode()
    request.send_response(status)
    request.send_header("Content-Type", f"{content_type}; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)
