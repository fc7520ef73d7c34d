"""moto's handling of each request it answers, at the cost of the work it does."""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

import moto.backend_index as backend_index
from moto.core import request as moto_request
from moto.core.base_backend import BackendDict
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.config import passthrough_service, passthrough_url, service_whitelisted
from moto.core.utils import get_equivalent_url_in_aws_domain
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder

from baton.local.seams.adaptation import Adaptation

SEAMS = "tests/functional/test_seams.py"


@functools.lru_cache(maxsize=256)
def _environ_of_url(method: str, base_url: str, path: str, query: str) -> dict[str, Any]:
    """What werkzeug's EnvironBuilder puts in a request's WSGI environ from its method and URL
    alone (the same for every request to that URL): built by werkzeug, once per URL."""
    environ = EnvironBuilder(
        method=method, base_url=base_url, path=path, query_string=query
    ).get_environ()
    for key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
        environ.pop(key, None)
    return environ


def _environ(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """The environ EnvironBuilder builds for a request with a body (`Request.from_values`), in
    its order: the URL's part with the body as the input stream, the first Content-Type header
    as CONTENT_TYPE, the body's length, and every other header as HTTP_<NAME> (repeated ones
    joined by ", ")."""
    parsed = urlparse(url)
    environ = dict(
        _environ_of_url(method, f"{parsed.scheme}://{parsed.netloc}", parsed.path, parsed.query)
    )
    environ["wsgi.input"] = BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    combined: defaultdict[str, list[str]] = defaultdict(list)
    for key, value in headers:
        lowered = key.lower()
        if lowered == "content-type":
            environ.setdefault("CONTENT_TYPE", value)
        elif lowered != "content-length":
            combined[f"HTTP_{key.upper().replace('-', '_')}"].append(value)
    environ["CONTENT_LENGTH"] = str(len(body))
    for key, values in combined.items():
        environ[key] = ", ".join(values)
    return environ


def _built_directly(original: classmethod) -> classmethod:  # type: ignore[type-arg]
    """moto's `Request.from_primitives` (the request object every request to moto becomes),
    with the WSGI environ of a request with a body built as werkzeug's EnvironBuilder builds it
    (`_environ`), its URL's part built by werkzeug once per URL: the builder's parse of the URL
    and its header object took a sixth of a small request's time. Anything else (no body, a
    body that is not bytes, a header value that is not text or holds a line break, which
    werkzeug refuses) is built by moto as before."""
    make = original.__func__

    def from_primitives(cls: type, method: str, url: str, headers: Any, body: Any = None) -> Any:
        if type(body) is not bytes or not body:
            return make(cls, method, url, headers, body)
        items = [
            (key, value.decode("utf-8") if isinstance(value, bytes) else value)
            for key, value in headers.items()
            if key.lower() != "transfer-encoding"
        ]
        if not all(
            type(key) is str and type(value) is str and "\n" not in value and "\r" not in value
            for key, value in items
        ):
            return make(cls, method, url, headers, body)
        request = cls(_environ(method, url, items, body))
        # moto's own finishing of the request, as from_primitives does it (its default
        # CONTENT_LENGTH is not needed: a request with a body has its length)
        request.environ[moto_request.PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {
            moto_request.environ_key_for_header(key): key
            for key, _ in items
            if moto_request.should_preserve_original_header_name(key)
        }
        return request

    from_primitives.original = original  # type: ignore[attr-defined]
    return classmethod(from_primitives)


KEPT_ROUTES = 1024
"""The most URLs whose handler is kept (an S3 object's URL names its key: they are many)."""

Handler = Callable[[Any, str, Any], Any]


def route(clean_url: str) -> tuple[tuple[str, ...], Handler] | None:
    """The handler moto's BotocoreStubber finds for a URL (without its query), found as it finds
    it: in the backend of the first service whose pattern matches and whose URL table has an
    entry matching the URL; with every service whose pattern matched on the way (moto asks of
    each whether it is passed through or allowed). None when no service has one."""
    import moto.backends as backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    matched: list[str] = []
    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        matched.append(service)
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
        if isinstance(backend_dict, BackendDict):
            in_account = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = in_account["us-east-1" if "us-east-1" in in_account else "aws"]
        else:
            backend = backend_dict["global"]
        for url, handler in backend.urls.items():
            if re.compile(url).match(clean_url):
                return tuple(matched), handler
    return None


def _routed_once(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """moto's BotocoreStubber.process_request, with the handler each URL reaches found once
    (route). moto found it at every request: it matched the URL against every service's
    pattern (about ninety), then rebuilt the matching backend's URL table (a regular expression
    substitution per path) and matched its entries. A backend's URL table is its class's, the
    same in every account and region, so the handler depends on the URL alone and is kept for
    the latest KEPT_ROUTES URLs. Whether the URL, or a service moto matched it to on the way,
    is passed through or not allowed is asked at every request, as moto asks: such a URL, and
    one no service handles, is left to moto. The request is then handled as moto handles it."""
    routes: dict[str, tuple[tuple[str, ...], Handler]] = {}
    lock = threading.Lock()

    def process_request(stubber: Any, request: Any) -> Any:
        parsed_url, _ = get_equivalent_url_in_aws_domain(request.url)
        clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
        found = routes.get(clean_url)
        if found is None:
            found = route(clean_url)
            if found is None:
                return original(stubber, request)  # no service handles it: moto answers
            with lock:
                while routes and len(routes) >= KEPT_ROUTES:
                    del routes[next(iter(routes))]  # the oldest
                routes[clean_url] = found
        services, handler = found
        if passthrough_url(clean_url) or any(
            passthrough_service(service) or not service_whitelisted(service) for service in services
        ):
            return original(stubber, request)  # moto passes it through, or refuses it
        from moto.moto_api import recorder

        normalized_request = moto_request.normalize_request(request)
        try:
            recorder._record_request(normalized_request)
            status, headers, body = handler(
                normalized_request, normalized_request.raw_url, normalized_request.headers
            )
        except HTTPException as e:
            status = e.code
            headers = e.get_headers()
            body = e.get_body()
        return status, headers, body

    process_request.original = original  # type: ignore[attr-defined]
    process_request.routes = routes  # type: ignore[attr-defined]
    return process_request


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "requests-built-directly",
            "(cost) the WSGI environ of a request with a body is built as werkzeug builds it,"
            " its URL's part once per URL, not through werkzeug's EnvironBuilder each time",
            f"{SEAMS}::test_a_request_is_built_as_werkzeug_builds_it_at_less_cost",
            ((moto_request.Request, "from_primitives", _built_directly),),
        ),
        Adaptation(
            "routes-found-once",
            "(cost) the handler a URL reaches is found once per URL, not by matching every"
            " service's pattern and rebuilding a backend's URL table at every request",
            f"{SEAMS}::test_a_url_reaches_the_handler_moto_finds_found_once",
            ((BotocoreStubber, "process_request", _routed_once),),
        ),
    ]
