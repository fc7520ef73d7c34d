"""What `baton run` prints of a stored record."""

from __future__ import annotations

from rich.console import Console

from baton.local.progress import print_execution
from baton_service.record import ExecutionRecord

RUN = "arn:aws:states:us-east-1:123456789012:execution:baton-five:exec_1-1"


def _printed(transitions: int | None) -> str:
    record = ExecutionRecord.model_validate(
        {
            "executionId": "exec_1",
            "workflowId": "five",
            "workflowName": "Five",
            "status": "completed",
            "runs": [RUN],
            "metrics": {"totalExecutionTime": 120, "stateTransitions": transitions},
        }
    )
    console = Console(record=True, width=200)
    print_execution(console, record)
    return console.export_text()


def test_the_transitions_a_run_billed_or_that_they_are_not_known():
    assert "7 state transitions" in _printed(7)
    # settled while its history was throttled: not a count of None (nor of 0)
    unknown = _printed(None)
    assert "state transitions not known (settled without its history)" in unknown
    assert "None" not in unknown
