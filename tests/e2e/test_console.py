"""The local console in a real browser (headless Debian Chromium, driven by selenium): start a
workflow and watch it complete, cancel another, check the graph's colours and the masked
secrets, and filter the live list. Each page's screenshot is written to build/screenshots/, or
to the folder BATON_SCREENSHOTS names (`make screenshots` refreshes the README's, in docs/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.test_serve import http

pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = ROOT / os.environ.get("BATON_SCREENSHOTS", "build/screenshots")
"""Where the pages' screenshots go: not docs/ (a test run leaves the checkout as it was)."""
GREEN, SAND = "rgb(201, 242, 208)", "rgb(241, 227, 181)"  # done, skipped (graph.STATUS_COLOURS)
SECRET_VALUE = "demo-password-123"  # statemachines/offline/secrets.yaml: portal-password


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    assert not missing, (
        f"{missing} missing: `make test` installs Debian's chromium and chromium-driver"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait(condition, timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # a page reloading under the lookup: try again
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or condition}")


def text_of(browser, element_id: str) -> str:
    return str(
        browser.execute_script(f"return document.getElementById('{element_id}').textContent")
    )


def graph_drawn(browser) -> None:
    wait(
        lambda: browser.execute_script("return document.body.dataset.graph") == "drawn",
        what="graph",
    )


def nodes(browser) -> dict[str, dict[str, Any]]:
    """Each drawn state: its classes and the fill its shape is painted with."""
    found = browser.execute_script(
        """
        return Array.from(document.querySelectorAll('#graph g.node')).map(g => {
          const shape = g.querySelector('rect, polygon, path, circle');
          return {label: g.textContent.trim(), classes: g.getAttribute('class'),
                  fill: shape ? getComputedStyle(shape).fill : ''};
        });"""
    )
    return {n["label"]: n for n in found}


def click(browser, button: str) -> None:
    """Click a button once it is enabled (in one script: the page may reload around it)."""
    script = f"const b = document.getElementById('{button}'); if (b.disabled) return false; b.click(); return true;"
    wait(lambda: browser.execute_script(script), what=f"the {button} button")


def screenshot(browser, name: str) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(int(height), 5000))
    time.sleep(0.3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / f"console-{name}.png"))
    browser.set_window_size(1400, 1000)


SLOW = {"targetUrl": "/slow/8/products/espresso"}
"""Input of the price alert whose check-price waits 8 s for its page (the demo site's /slow)."""
SLOW_WORKFLOW = "workflow_conditional_001"


def start_from_console(
    browser, server, workflow_id: str, tenant: str, data: dict[str, Any] | None = None
) -> str:
    """The workflow page's Start form; the execution page it leads to (its URL)."""
    browser.get(f"{server['api']}/console/workflows/{workflow_id}")
    graph_drawn(browser)
    field = browser.find_element("id", "start-tenant")
    field.clear()
    field.send_keys(tenant)
    if data is not None:
        browser.execute_script(
            "document.getElementById('start-input').value = arguments[0]", json.dumps(data)
        )
    browser.find_element("id", "start").click()
    wait(lambda: "/console/executions/" in browser.current_url, what="the execution page")
    return str(browser.current_url)


def test_a_workflow_started_from_the_console_is_watched_to_completion_with_its_graph_coloured(
    server, browser
):
    browser.get(f"{server['api']}/console/workflows/competitor-monitoring")
    graph_drawn(browser)
    assert "Standard, per execution" in text_of(browser, "cost")
    assert json.loads(text_of(browser, "definition"))["id"] == "competitor-monitoring"
    screenshot(browser, "workflow")

    page = start_from_console(browser, server, "competitor-monitoring", "acme")
    assert page.startswith(f"{server['api']}/console/executions/acme/exec_")
    wait(lambda: text_of(browser, "status") == "completed", 90, "completion")
    graph_drawn(browser)
    drawn = nodes(browser)
    for state in ("scraper-1", "aggregator", "check-price", "slack-notify", "Completed"):
        assert "done" in drawn[state]["classes"] and drawn[state]["fill"] == GREEN, drawn[state]
    assert "skipped" in drawn["Skip scraper-3"]["classes"]
    assert drawn["Skip scraper-3"]["fill"] == SAND
    assert "done" not in drawn["log"]["classes"]  # the branch not taken
    timeline = text_of(browser, "timeline")
    assert "✖ failed" in timeline and "◷ backoff 2 s" in timeline and "↷ skipped" in timeline
    assert "AccuracyBelowThreshold" in timeline
    screenshot(browser, "execution")


def test_secrets_and_session_references_are_masked(server, browser):
    start_from_console(browser, server, "workflow_sequential_001", "default")  # its secrets
    wait(lambda: text_of(browser, "status") == "completed", 90, "completion")
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    source = browser.page_source
    assert SECRET_VALUE not in source
    assert not re.search(r"stash:[A-Za-z0-9_-]", source)  # every stash reference is masked
    shown = browser.find_element("tag name", "main").text
    assert '"session": "•••"' in shown and '"passwordSecret": "•••"' in shown


def test_a_running_execution_is_cancelled_from_its_page(server, browser):
    start_from_console(browser, server, SLOW_WORKFLOW, "beta", SLOW)
    wait(lambda: text_of(browser, "status") == "running", 30, "the run")
    click(browser, "cancel")
    wait(lambda: text_of(browser, "status") == "cancelled", 60, "the cancellation")
    assert browser.execute_script("return document.getElementById('resume').disabled") is False
    screenshot(browser, "cancelled")


def test_a_paused_execution_resumes_from_its_page_and_completes(server, browser):
    start_from_console(browser, server, SLOW_WORKFLOW, "epsilon", SLOW)
    wait(lambda: text_of(browser, "status") == "running", 30, "the run")
    click(browser, "pause")
    wait(lambda: text_of(browser, "status") == "paused", 60, "the pause")
    # the run is stopped, its first step (check-price, 8 s) still runs: no resume until it
    # has recorded its step, or it would run again
    click(browser, "resume")
    refused = wait(lambda: "may still be running" in text_of(browser, "action-error"), 30)
    assert refused and "step check-price" in text_of(browser, "action-error")

    def resumed() -> bool:
        if text_of(browser, "status") in ("running", "completed"):
            return True
        click(browser, "resume")
        time.sleep(1)
        return False

    wait(resumed, 60, "the resume, once check-price was recorded")
    wait(lambda: text_of(browser, "status") == "completed", 90, "the resumed run")
    assert "2 run(s)" in browser.find_element("id", "execution").text


def test_the_list_filters_and_refreshes_itself(server, browser):
    path = f"/workflows/{SLOW_WORKFLOW}/executions"
    status, slow = http(server, "POST", path, "delta", {"input": SLOW})
    assert status == 201
    status, _ = http(server, "POST", f"/executions/{slow['executionId']}/cancel", "delta")
    assert status == 200
    browser.get(f"{server['api']}/console?status=cancelled&tenant=delta")
    rows = browser.find_elements("css selector", "#executions tr[data-status]")
    assert rows and {r.get_attribute("data-status") for r in rows} == {"cancelled"}
    browser.get(f"{server['api']}/console?tenant=gamma")
    assert "No executions yet." in text_of(browser, "executions")
    status, started = http(
        server, "POST", "/workflows/price-watch/executions", "gamma", {"input": {}}
    )
    assert status == 201
    wait(lambda: started["executionId"] in text_of(browser, "executions"), 30, "live refresh")
    browser.get(f"{server['api']}/console")
    screenshot(browser, "executions")


def test_the_console_refuses_other_hosts_and_token_requests_without_its_key(server):
    import urllib.error
    import urllib.request

    def ask(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(
            server["api"] + path,
            method=method,
            headers=headers or {},
            data=b"{}" if method == "POST" else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert ask("/console") == 200
    assert ask("/console", headers={"Host": "attacker.example"}) == 403  # DNS rebinding
    assert ask("/console/token", "POST") == 403  # a cross-site form cannot add the header
    assert ask("/console/token", "POST", {"X-Baton-Console": "guess"}) == 403
    assert ask("/console/static/..%2F..%2Fapp.py") == 404
