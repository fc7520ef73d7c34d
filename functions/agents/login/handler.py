"""Agent 1, login: checks the credentials' shape and opens a session kept by reference.

The password itself is never read from nor written to the workflow data: the data names a secret
(`passwordSecret`), and only a session reference goes on to the next agents.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlparse

from agents.common.pages import require
from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    login_url, username = require(data, "loginUrl", "username")
    url = urlparse(str(login_url))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise AgentInputError(f"loginUrl {login_url!r} is not an http(s) URL")
    secret = data.get("passwordSecret")
    if not secret:
        raise AgentInputError("the workflow data names no passwordSecret (a Secrets Manager name)")
    if not context.secret(str(secret)):
        raise AgentInputError(f"secret {secret!r} is empty")
    session_ref = hashlib.sha256(
        f"{url.netloc}|{username}|{context.execution.get('executionId', '')}".encode()
    ).hexdigest()[:24]
    return AgentResult(
        data={
            "authenticated": True,
            "session": {"user": username, "host": url.netloc, "ref": f"session:{session_ref}"},
        }
    )
