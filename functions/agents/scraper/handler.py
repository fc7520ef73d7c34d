"""Agents 5–7, 9 and 13, scrapers: the products and prices of a competitor's catalog page.

`scraper-N` reads `sites[N-1]`; `scraper-backup` stands in for a failed scraper, reading that
site's mirror (`mirrors[site]`) and writing under the failed scraper's key; `site-scraper` reads
the one site a fan-out (`forEach`) hands it as `site`, so one agent covers any number of sites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.common.web import absolute, products, request, require
from baton_agent import AgentContext, AgentError, AgentInputError, AgentResult, agent


def scrape(data: dict[str, Any], url: str) -> tuple[list[dict[str, Any]], float]:
    found = products(request("GET", absolute(data, url)).text)
    if not found:
        raise AgentError(f"no products found on {url}")
    priced = sum(1 for p in found if p["price"] is not None)
    return found, round(100 * priced / len(found), 2)


def _site(data: dict[str, Any], index: int) -> str:
    (sites,) = require(data, "sites")
    if not isinstance(sites, list) or len(sites) <= index:
        raise AgentInputError(f"the workflow data lists no site number {index + 1}")
    return str(sites[index])


def _result(index: int, site: str, found: list[dict[str, Any]], accuracy: float) -> AgentResult:
    return AgentResult(
        data={f"scraper{index + 1}": {"site": site, "products": found}}, accuracy=accuracy
    )


def _scraper(index: int) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @agent
    def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
        site = _site(data, index)
        return _result(index, site, *scrape(data, site))

    return handler  # type: ignore[no-any-return]


@agent
def each_site(data: dict[str, Any], context: AgentContext) -> AgentResult:
    (site,) = require(data, "site")
    found, accuracy = scrape(data, str(site))
    return AgentResult(data={"site": site, "products": found}, accuracy=accuracy)


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
    return _result(index, site, *scrape(data, mirror))
