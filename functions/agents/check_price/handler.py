"""Agent 10, check-price: the product's current price against the last known one."""

from __future__ import annotations

from typing import Any

from agents.common.html import marked, parse_price
from agents.common.pages import page_html, require
from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    url, last = require(data, "targetUrl", "lastKnownPrice")
    if not isinstance(last, int | float):
        raise AgentInputError(f"lastKnownPrice must be a number, got {last!r}")
    prices = [parse_price(text) for kind, text in marked(page_html(data, url), {"price"})]
    current = next((p for p in prices if p is not None), None)
    if current is None:
        raise AgentError(f"no price found on {url}")
    return AgentResult(
        data={
            "currentPrice": current,
            "priceChanged": current != last,
            "priceDelta": round(current - last, 2),
            "dropPercent": round(100 * (last - current) / last, 2) if last else 0.0,
        }
    )
