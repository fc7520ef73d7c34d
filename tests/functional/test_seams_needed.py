"""Each adaptation of moto is needed: the test it names fails when that adaptation alone is
left out (`BATON_WITHOUT_SEAMS`). A subprocess per adaptation, as the switch reads the variable
when a runtime opens."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from baton.local.seams import WITHOUT_SEAMS
from tests.conftest import ROOT
from tests.functional.test_seams import _adaptations

PYTEST = (sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider")
ADAPTATIONS = {adaptation.name: adaptation.shown_by for adaptation in _adaptations()}


@pytest.mark.parametrize("name", sorted(ADAPTATIONS))
def test_the_named_test_fails_without_the_adaptation(name):
    shown_by = ADAPTATIONS[name]
    finished = subprocess.run(
        [*PYTEST, "--timeout", "25", shown_by],
        cwd=ROOT,
        env={**os.environ, WITHOUT_SEAMS: name},
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = finished.stdout.strip().splitlines()[-1:]
    assert finished.returncode == 1, (finished.returncode, finished.stdout[-3000:])
    assert "1 failed" in summary[0], summary  # a failure of the test, not of its collection
