"""moto's handling of each request it answers, at the cost of the work it does."""

from __future__ import annotations

import functools
import sys
from collections import defaultdict
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

from moto.core import request as moto_request
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


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "requests-built-directly",
            "(cost) the WSGI environ of a request with a body is built as werkzeug builds it,"
            " its URL's part once per URL, not through werkzeug's EnvironBuilder each time",
            f"{SEAMS}::test_a_request_is_built_as_werkzeug_builds_it_at_less_cost",
            ((moto_request.Request, "from_primitives", _built_directly),),
        ),
    ]
