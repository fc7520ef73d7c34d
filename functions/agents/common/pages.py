"""Where the example agents get page content offline: the workflow data's `pages` snapshot.

`pages` maps URLs to HTML. Real HTTP fetching replaces this in the agents that browse.
"""

from __future__ import annotations

from typing import Any

from baton_agent import AgentError, AgentInputError


def page_html(data: dict[str, Any], url: str) -> str:
    pages = data.get("pages")
    if not isinstance(pages, dict):
        raise AgentInputError("the workflow data has no 'pages' snapshot to read from")
    html = pages.get(url)
    if html is None:
        raise AgentError(f"page {url} is not available")
    if not isinstance(html, str):
        raise AgentInputError(f"pages[{url!r}] must be HTML text")
    return html


def require(data: dict[str, Any], *keys: str) -> list[Any]:
    """The values of `keys`, or AgentInputError naming every missing one."""
    missing = [k for k in keys if data.get(k) in (None, "")]
    if missing:
        raise AgentInputError(f"the workflow data lacks {', '.join(missing)}")
    return [data[k] for k in keys]
