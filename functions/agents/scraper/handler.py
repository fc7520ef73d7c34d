"""Agents 5–7 and 9, scrapers: read the products and prices of a competitor's page.

`scraper-N` reads `sites[N-1]`; `scraper-backup` stands in for a failed scraper, reading the
same site's mirror (`mirrors[url]`) and writing its result under the failed scraper's key.
"""

from __future__ import annotations

from typing import Any

from agents.common.html import marked, parse_price
from agents.common.pages import page_html, require
from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


def scrape(html: str, site: str) -> tuple[list[dict[str, Any]], float]:
    """Products as {name, price}; accuracy = share of products whose price parsed."""
    products: list[dict[str, Any]] = []
    for kind, text in marked(html, {"name", "price"}):
        if kind == "name":
            products.append({"name": text, "price": None})
        elif products and products[-1]["price"] is None:
            products[-1]["price"] = parse_price(text)
    if not products:
        raise AgentError(f"no products found on {site}")
    priced = sum(1 for p in products if p["price"] is not None)
    return products, round(100 * priced / len(products), 2)


def _site(data: dict[str, Any], index: int) -> str:
    (sites,) = require(data, "sites")
    if not isinstance(sites, list) or len(sites) <= index:
        raise AgentInputError(f"the workflow data lists no site number {index + 1}")
    return str(sites[index])


def _result(key: str, site: str, products: list[dict[str, Any]], accuracy: float) -> AgentResult:
    return AgentResult(data={key: {"site": site, "products": products}}, accuracy=accuracy)


def _scraper(index: int):  # type: ignore[no-untyped-def]
    key = f"scraper{index + 1}"

    @agent
    def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
        site = _site(data, index)
        products, accuracy = scrape(page_html(data, site), site)
        return _result(key, site, products, accuracy)

    return handler


scraper_1 = _scraper(0)
scraper_2 = _scraper(1)
scraper_3 = _scraper(2)


@agent
def scraper_backup(data: dict[str, Any], context: AgentContext) -> AgentResult:
    replaced = context.replaces or "scraper-1"
    index = int(replaced.rsplit("-", 1)[-1]) - 1 if replaced[-1].isdigit() else 0
    site = _site(data, index)
    mirror = (data.get("mirrors") or {}).get(site)
    if not mirror:
        raise AgentError(f"no mirror known for {site}")
    products, accuracy = scrape(page_html(data, mirror), mirror)
    return _result(f"scraper{index + 1}", site, products, accuracy)
