"""Agent 10, check-price: the product's current price against the last known one."""

from __future__ import annotations

from typing import Any

from agents.common.web import absolute, products, request, require
from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    url, last = require(data, "targetUrl", "lastKnownPrice")
    if not isinstance(last, int | float) or isinstance(last, bool):
        raise AgentInputError(f"lastKnownPrice must be a number, got {last!r}")
    found = products(request("GET", absolute(data, url)).text)
    current = next((p["price"] for p in found if p["price"] is not None), None)
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
