"""The pytest fixtures Baton installs for authors (baton.testing): `run_workflow` runs a whole
workflow offline, from a file or a definition given as a dict, with the project's agents."""

from __future__ import annotations

import pytest

from baton.definition.exceptions import DefinitionError
from tests.conftest import STATEMACHINES


def test_run_workflow_runs_a_shipped_file_against_the_demo_site(run_workflow):
    record = run_workflow(STATEMACHINES / "price-change-alert.json", {"lastKnownPrice": 120})
    assert record.status == "completed", record.error
    assert record.output["currentPrice"] == 84.99
    assert [h.agent for h in record.handoffs] == ["check-price", "slack-notify"]


def test_run_workflow_runs_a_definition_given_as_a_dict_and_names_its_problems(run_workflow):
    record = run_workflow({"id": "tiny", "name": "Tiny", "agents": ["log"]}, {"logMessage": "hi"})
    assert record.status == "completed" and record.output["log"]["message"] == "hi"
    with pytest.raises(DefinitionError, match="unknown agent 'nobody'"):
        run_workflow({"id": "bad", "name": "Bad", "agents": ["nobody"]})
