"""HTTP and page reading for the example agents (urllib3 for HTTP, selectolax for HTML).

Errors get the names Step Functions' Retry expects: a 5xx answer or a network failure is an
AgentError (retried), a 4xx answer means the request itself is wrong: AgentInputError (never
retried). Retrying is the state machine's job, so the client itself never retries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import urllib3
from selectolax.lexbor import LexborHTMLParser

from baton_agent import AgentError, AgentInputError

_POOL = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5.0, read=20.0), retries=False)
_PRICE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def absolute(data: dict[str, Any], url: str) -> str:
    """`url` resolved against the workflow data's `baseUrl` (absolute URLs stay as they are)."""
    return urljoin(str(data.get("baseUrl") or ""), str(url))


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    expect: tuple[int, ...] = (200,),
) -> Response:
    if not url.startswith(("http://", "https://")):
        raise AgentInputError(f"{url!r} is not an http(s) URL")
    try:
        answer = _POOL.request(method, url, body=body, headers=headers or {}, redirect=False)
    except urllib3.exceptions.HTTPError as err:
        raise AgentError(f"{method} {url} failed: {err}") from None
    response = Response(
        url,
        answer.status,
        {k.lower(): v for k, v in answer.headers.items()},
        answer.data.decode("utf-8", "replace"),
    )
    if response.status in expect:
        return response
    if response.status >= 500:
        raise AgentError(f"{method} {url} answered {response.status}")
    raise AgentInputError(f"{method} {url} answered {response.status}: {response.text[:200]}")


def title(html: str) -> str | None:
    node = LexborHTMLParser(html).css_first("title")
    return node.text(strip=True) if node else None


def products(html: str) -> list[dict[str, Any]]:
    """Every `.product` with its `.name` and `.price` (price None when it does not parse)."""
    found = []
    for node in LexborHTMLParser(html).css(".product"):
        name = node.css_first(".name") or node.css_first("h1")
        price = node.css_first(".price")
        found.append(
            {
                "name": name.text(strip=True) if name else None,
                "price": parse_price(price.text() if price else ""),
            }
        )
    return found


def parse_price(text: str) -> float | None:
    """'$1,299.00' -> 1299.0; None when the text holds no number."""
    match = _PRICE.search(text or "")
    return float(match.group().replace(",", "")) if match else None


def require(data: dict[str, Any], *keys: str) -> list[Any]:
    """The values of `keys`, or AgentInputError naming every missing one."""
    missing = [k for k in keys if data.get(k) in (None, "")]
    if missing:
        raise AgentInputError(f"the workflow data lacks {', '.join(missing)}")
    return [data[k] for k in keys]
