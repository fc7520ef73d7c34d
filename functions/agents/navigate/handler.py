"""Agent 2, navigate: resolves the target page on the signed-in site and opens it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlparse

from agents.common.html import title
from agents.common.pages import page_html, require
from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    (target,) = require(data, "targetUrl")
    url = urljoin(str(data.get("loginUrl", "")), str(target))
    session = data.get("session") or {}
    if session and urlparse(url).netloc != session.get("host"):
        raise AgentInputError(f"{url} is not on the signed-in site {session.get('host')}")
    html = page_html(data, url)
    return AgentResult(data={"page": {"url": url, "title": title(html), "bytes": len(html)}})
