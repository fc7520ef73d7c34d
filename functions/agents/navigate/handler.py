"""Agent 2, navigate: opens the target page with the signed-in session.

The page itself is stashed server-side (pages can be large); the data carries its URL, title,
size and reference, for extract to read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from agents.common.web import absolute, request, require, title
from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    (target,) = require(data, "targetUrl")
    url = absolute(data, target)
    headers = {}
    session = data.get("session")
    if isinstance(session, dict) and session.get("ref"):
        if urlsplit(url).netloc != session.get("host"):
            raise AgentInputError(f"{url} is not on the signed-in site {session.get('host')}")
        headers["Cookie"] = context.take(str(session["ref"]), secret=True)
    response = request("GET", url, headers=headers)
    page = {
        "url": url,
        "title": title(response.text),
        "status": response.status,
        "bytes": len(response.text),
        "contentType": response.headers.get("content-type", ""),
        "ref": context.keep(response.text),
    }
    return AgentResult(data={"page": page})
