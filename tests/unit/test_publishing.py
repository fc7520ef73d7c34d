"""Baton's events are put 10 a request, and entries EventBridge refuses are put again."""

from __future__ import annotations

import json

import pytest

from baton_service.publishing import EventPublisher, EventsNotPublishedError

RECORD = {"executionId": "exec_1_abcdefghi", "tenant": "acme", "workflowId": "five"}


class Bus:
    """PutEvents that refuses the entries whose DetailType is in `refusing`, `times` times each
    (the request itself succeeds, as AWS answers a partial failure)."""

    def __init__(self, refusing: frozenset[str] = frozenset(), times: int = 0) -> None:
        self.requests: list[list[str]] = []
        self.refusals = dict.fromkeys(refusing, times)

    def put_events(self, Entries):  # boto3 names it so
        self.requests.append([e["DetailType"] for e in Entries])
        answers = []
        for entry in Entries:
            if self.refusals.get(entry["DetailType"], 0) > 0:
                self.refusals[entry["DetailType"]] -= 1
                answers.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"})
            else:
                answers.append({"EventId": "id"})
        failed = sum(1 for a in answers if "ErrorCode" in a)
        return {"FailedEntryCount": failed, "Entries": answers}


def entries(publisher: EventPublisher, count: int) -> list[dict]:
    return [publisher.entry(f"Agent Completed {n}", RECORD, {"n": n}) for n in range(count)]


def test_an_entry_names_the_execution_and_the_bus():
    entry = EventPublisher(Bus(), "baton-bus").entry("Workflow Started", RECORD, {"run": 2})
    assert entry["Source"] == "baton" and entry["EventBusName"] == "baton-bus"
    assert entry["DetailType"] == "Workflow Started"
    assert json.loads(entry["Detail"]) == {**RECORD, "run": 2}


def test_entries_are_put_ten_a_request_in_order():
    bus = Bus()
    publisher = EventPublisher(bus, "baton-bus")
    publisher.publish(entries(publisher, 23))
    assert [len(r) for r in bus.requests] == [10, 10, 3]
    assert [kind for r in bus.requests for kind in r] == [f"Agent Completed {n}" for n in range(23)]


def test_only_the_refused_entries_are_put_again():
    bus = Bus(frozenset({"Agent Completed 1", "Agent Completed 3"}), times=2)
    waits: list[float] = []
    publisher = EventPublisher(bus, "baton-bus", sleep=waits.append)
    publisher.publish(entries(publisher, 4))
    assert bus.requests == [
        [f"Agent Completed {n}" for n in range(4)],
        ["Agent Completed 1", "Agent Completed 3"],
        ["Agent Completed 1", "Agent Completed 3"],
    ]
    assert len(waits) == 2 and all(0 <= w <= 0.2 for w in waits)  # jittered backoff


def test_entries_refused_every_time_raise_naming_them():
    bus = Bus(frozenset({"Workflow Completed"}), times=99)
    publisher = EventPublisher(bus, "baton-bus", sleep=lambda _: None)
    done = publisher.entry("Workflow Completed", RECORD, {})
    started = publisher.entry("Workflow Started", RECORD, {})
    with pytest.raises(EventsNotPublishedError) as raised:
        publisher.publish([started, done])
    assert str(raised.value) == (
        "EventBridge refused 1 event(s) (Workflow Completed) 4 times: ThrottlingException"
    )
    assert bus.requests[0] == ["Workflow Started", "Workflow Completed"]
    assert bus.requests[1:] == [["Workflow Completed"]] * 3  # the accepted one is not put again


def test_without_a_client_or_a_bus_nothing_is_published():
    bus = Bus()
    for publisher in (EventPublisher(), EventPublisher(bus, ""), EventPublisher(None, "b")):
        publisher.publish(entries(publisher, 3))
    assert bus.requests == []
