"""Agent 1, login: signs in with a form POST; the session stays server-side, by reference.

The password comes from Secrets Manager (the data names the tenant's secret, `passwordSecret`,
which the registry entry must declare) and goes only to a host the workflow allows; the session
cookie is stashed under the execution, and only its reference goes on in the data.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from agents.common.web import absolute, request, require
from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    login_url, username, secret = require(data, "loginUrl", "username", "passwordSecret")
    url = absolute(data, login_url)
    password = context.secret(str(secret), to=url)  # only to a host the workflow allows
    form = urlencode({"username": username, "password": password}).encode()
    response = request(
        "POST",
        url,
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect=(200, 302, 303),
    )
    cookie = SimpleCookie(response.headers.get("set-cookie", ""))
    if not cookie:
        raise AgentInputError(f"{url} set no session cookie: wrong login form or credentials")
    header = "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items())
    ref = context.keep(header, secret=True)
    host = urlsplit(url).netloc
    return AgentResult(
        data={"authenticated": True, "session": {"ref": ref, "host": host, "user": username}}
    )
