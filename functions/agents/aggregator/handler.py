"""Agent 8, aggregator: one price report from every scraper's results (under `scraperN`, or in a
fan-out's list of results, failed items left out)."""

from __future__ import annotations

from statistics import fmean
from typing import Any

from baton_agent import AgentContext, AgentInputError, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    scraped = [
        v for k, v in sorted(data.items()) if k.startswith("scraper") and isinstance(v, dict)
    ]
    scraped += [
        r
        for v in data.values()
        if isinstance(v, list)
        for r in v
        if isinstance(r, dict) and "products" in r and not r.get("failed")
    ]
    if not scraped:
        raise AgentInputError("no scraper results in the workflow data")
    offers = [
        {"site": s["site"], "name": p["name"], "price": p["price"]}
        for s in scraped
        for p in s.get("products", [])
        if p.get("price") is not None
    ]
    if not offers:
        raise AgentInputError("the scrapers found no priced products")
    prices = [o["price"] for o in offers]
    cheapest = min(offers, key=lambda o: o["price"])
    return AgentResult(
        data={
            "report": {
                "sites": len(scraped),
                "offers": len(offers),
                "minPrice": min(prices),
                "maxPrice": max(prices),
                "meanPrice": round(fmean(prices), 2),
                "cheapest": cheapest,
            }
        },
        accuracy=round(100 * len(scraped) / max(len(data.get("sites") or scraped), 1), 2),
    )
