"""Each adaptation of moto is needed: the test it names fails when that adaptation alone is
left out (`BATON_WITHOUT_SEAMS`).

The switch reads the variable when a runtime opens, so the named tests run in a few pytest
processes (tests.functional.leave_out sets the variable per test), not one per adaptation: a
test named by several adaptations runs once in each of as many processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.functional.leave_out import LEAVE_OUT, REPORT
from tests.functional.test_seams import _adaptations

pytestmark = pytest.mark.timeout(900)  # the first test waits for every group's process

PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "25")
ADAPTATIONS = {adaptation.name: adaptation.shown_by for adaptation in _adaptations()}


def _groups() -> list[dict[str, str]]:
    """{test: adaptation} per process, each test at most once in a process."""
    groups: list[dict[str, str]] = []
    for name, test in sorted(ADAPTATIONS.items()):
        group = next((g for g in groups if test not in g), None)
        if group is None:
            group = {}
            groups.append(group)
        group[test] = name
    return groups


@pytest.fixture(scope="module")
def failed_without(tmp_path_factory) -> dict[str, tuple[bool, str]]:
    """{adaptation: (whether its test failed without it, what its process printed)}."""
    outcome: dict[str, tuple[bool, str]] = {}
    for number, group in enumerate(_groups()):
        report = Path(tmp_path_factory.mktemp("left-out")) / f"failed-{number}.json"
        finished = subprocess.run(
            [*PYTEST, "-p", "tests.functional.leave_out", *group],
            cwd=ROOT,
            env={**os.environ, LEAVE_OUT: json.dumps(group), REPORT: str(report)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        failed = set(json.loads(report.read_text())) if report.exists() else set()
        for test, name in group.items():
            outcome[name] = (test in failed, finished.stdout[-3000:])
    return outcome


@pytest.mark.parametrize("name", sorted(ADAPTATIONS))
def test_the_named_test_fails_without_the_adaptation(name, failed_without):
    failed, printed = failed_without[name]
    assert failed, f"{ADAPTATIONS[name]} passed without {name}:\n{printed}"
