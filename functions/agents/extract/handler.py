"""Agent 3, extract: turns the current page's table into records.

Accuracy is the share of rows with every column filled, so a half-empty table fails the gate.
"""

from __future__ import annotations

from typing import Any

from agents.common.html import table
from agents.common.pages import page_html
from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    page = data.get("page")
    if not isinstance(page, dict) or not page.get("url"):
        raise AgentInputError("no page is open (run navigate first)")
    rows = table(page_html(data, page["url"]))
    if not rows:
        raise AgentError(f"no table found on {page['url']}")
    complete = sum(1 for row in rows if all(value.strip() for value in row.values()))
    return AgentResult(
        data={"records": rows, "recordCount": len(rows), "columns": list(rows[0])},
        accuracy=round(100 * complete / len(rows), 2),
    )
