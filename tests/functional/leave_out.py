"""A pytest plugin for test_seams_needed: each test runs with the adaptation that
`BATON_LEAVE_OUT` (JSON, {test: adaptation}) names for it left out, and the tests that failed
are written to `BATON_LEAVE_OUT_REPORT`. The seams' switch reads `BATON_WITHOUT_SEAMS` when a
runtime opens, so one process can run many tests, each without its own adaptation."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from baton.local.seams import WITHOUT_SEAMS

LEAVE_OUT = "BATON_LEAVE_OUT"
REPORT = "BATON_LEAVE_OUT_REPORT"
_failed: set[str] = set()


def test_of(nodeid: str) -> str:
    """The test function a test item runs (its parameters dropped)."""
    return nodeid.split("[", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    os.environ[WITHOUT_SEAMS] = json.loads(os.environ[LEAVE_OUT])[test_of(item.nodeid)]


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Any) -> None:
    os.environ.pop(WITHOUT_SEAMS, None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.failed:  # the test's own failure, not its set-up's
        _failed.add(test_of(report.nodeid))


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(os.environ[REPORT]).write_text(json.dumps(sorted(_failed)))
