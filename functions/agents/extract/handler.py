"""Agent 3, extract: records from the open page, as the agent's config says.

HTML pages: `rows` (a CSS selector) and `fields` (name → CSS selector inside a row).
JSON pages: `jsonRows` (a JSONPath to the records) and `jsonFields` (name → JSONPath inside one).
Accuracy is the share of records with every field found, so a half-empty page fails the gate.
"""

from __future__ import annotations

import json
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


def _from_html(text: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    rows, fields = config.get("rows"), config.get("fields")
    if not rows or not isinstance(fields, dict):
        raise AgentInputError(
            "extract needs config.rows and config.fields (CSS selectors) for HTML pages"
        )
    records = []
    for row in LexborHTMLParser(text).css(rows):
        record = {}
        for name, selector in fields.items():
            node = row.css_first(selector)
            record[name] = node.text(strip=True) if node else None
        records.append(record)
    return records


def _from_json(text: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    from jsonpath_ng.ext.parser import parse  # only JSON pages pay for it

    rows, fields = config.get("jsonRows"), config.get("jsonFields")
    if not rows or not isinstance(fields, dict):
        raise AgentInputError(
            "extract needs config.jsonRows and config.jsonFields (JSONPath) for JSON pages"
        )
    document = json.loads(text)
    paths = {name: parse(path) for name, path in fields.items()}
    records = []
    for match in parse(rows).find(document):
        record = {}
        for name, path in paths.items():
            found = path.find(match.value)
            record[name] = found[0].value if found else None
        records.append(record)
    return records


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    page = data.get("page")
    if not isinstance(page, dict) or not page.get("ref"):
        raise AgentInputError("no page is open (run navigate first)")
    text = context.take(str(page["ref"]))
    is_json = "json" in str(page.get("contentType", ""))
    records = (
        _from_json(text, dict(context.config))
        if is_json
        else _from_html(text, dict(context.config))
    )
    if not records:
        raise AgentError(f"no records found on {page.get('url')}")
    complete = sum(1 for r in records if all(v not in (None, "") for v in r.values()))
    return AgentResult(
        data={"records": records, "recordCount": len(records)},
        accuracy=round(100 * complete / len(records), 2),
    )
