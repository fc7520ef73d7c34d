"""Faults of the services around the agents: each run ends as it should, and nothing is lost
or written twice (handoffs, checkpoints, agent calls)."""

from __future__ import annotations

import threading

import pytest

from baton_agent import AgentResult, agent
from baton_agent.records import DynamoExecutionLog
from baton_service.events import SETTLING_SECONDS, SettlementInProgressError
from tests.conftest import compiled, make_registry
from tests.functional.agents import Calls, echo

NAMES = ("a", "b", "c")
REGISTRY = make_registry(*NAMES)
THREE = {"id": "three", "name": "Three", "agents": list(NAMES)}


def kinds(events: list[dict]) -> list[str]:
    return [e["detail-type"] for e in events]


def steps_of(record: dict) -> list[tuple[str, int]]:
    return [(h["agent"], h["attempt"]) for h in record["handoffs"]]


@pytest.mark.parametrize(
    ("fault", "times"), [("ServiceException", 2), ("TooManyRequestsException", 2)]
)
def test_lambda_service_faults_are_retried_and_the_run_completes_once(
    runtime_factory, fault, times
):
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    runtime.inject_lambda_fault("b", fault, times=times)
    record = runtime.execute(compiled(THREE, REGISTRY))
    assert record["status"] == "completed", record.get("error")
    assert calls.agents() == ["a", "b", "c"]  # a fault happens before the function runs
    assert steps_of(record) == [("a", 1), ("b", times + 1), ("c", 1)]
    failed = [
        e["taskFailedEventDetails"]["error"]
        for e in runtime.history(record["currentRun"])
        if e["type"] == "TaskFailed"
    ]
    assert failed == [f"Lambda.{fault}"] * times
    assert record["metrics"]["failedHandoffs"] == times


class CrashingLog(DynamoExecutionLog):
    """The step log of a container that dies between the agent's work and its record (once)."""

    crashed = False

    def step_finished(self, record):
        if not CrashingLog.crashed and record.handoff["step"] == "b":
            CrashingLog.crashed = True
            raise ConnectionError("the container died before the step was recorded")
        super().step_finished(record)


def test_a_crash_between_the_agent_and_its_record_neither_loses_nor_duplicates(runtime_factory):
    """The handoff and the checkpoint are one transaction: a crash before it leaves neither,
    the retry writes both once; the checkpoint follows the steps that were recorded."""
    import boto3

    from baton_agent.settings import get_settings

    def crashing_log():
        return CrashingLog(get_settings().executions_table, boto3.client("dynamodb"))

    calls = Calls()

    @agent(log=crashing_log)
    def b(data, context):
        calls.add(agent="b", attempt=context.attempt)
        return AgentResult(data={"b": context.attempt})

    runtime = runtime_factory(REGISTRY, {"a": echo(calls, "a"), "b": b, "c": echo(calls, "c")})
    record = runtime.execute(compiled(THREE, REGISTRY))
    assert record["status"] == "completed", record.get("error")
    assert steps_of(record) == [("a", 1), ("b", 2), ("c", 1)]  # one handoff of b, not two
    assert record["output"]["b"] == 2 and calls.count("b") == 2
    assert record["checkpoint"]["after"] == "c"


def test_dynamodb_throttling_is_retried_by_the_runtime_not_failed_as_a_step(runtime_factory):
    """The step log's first writes are throttled (HTTP 400 ThrottlingException, retried by
    botocore's standard mode) and cancelled for throttling (retried by the log itself): the
    step still completes at its first attempt, recorded once."""
    import json

    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    from baton_agent import runtime as agent_runtime

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    answers = ["ThrottlingException"] * 3 + ["TransactionCanceledException"] * 2
    prefix = "com.amazonaws.dynamodb.v20120810#"

    def throttle(request, **_):
        if not answers:
            return None  # on to the (offline) service
        kind = answers.pop(0)
        body = {"__type": prefix + kind, "message": "Rate of requests exceeds the throughput"}
        if kind == "TransactionCanceledException":
            body["CancellationReasons"] = [{"Code": "ThrottlingError"}, {"Code": "None"}]
        headers = {"x-amzn-RequestId": "throttled", "Content-Type": "application/x-amz-json-1.0"}
        raw = MockRawResponse(json.dumps(body).encode())
        return AWSResponse(request.url, 400, headers, raw)

    client = agent_runtime._dynamodb()
    client.meta.events.register("before-send.dynamodb.TransactWriteItems", throttle)
    try:
        record = runtime.execute(compiled(THREE, REGISTRY))
    finally:
        client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", throttle)
    assert answers == []  # every throttled answer was given
    assert record["status"] == "completed", record.get("error")
    assert steps_of(record) == [("a", 1), ("b", 1), ("c", 1)]
    history = runtime.history(record["currentRun"])
    assert not [e for e in history if e["type"] == "TaskFailed"]
    assert calls.agents() == ["a", "b", "c"]


def slow_agent(calls: Calls, name: str, finished: list[int]):
    """An agent whose work takes 0.3 s: long enough to be killed in the middle of it."""
    import time

    @agent
    def handler(data, context):
        calls.add(agent=name, attempt=context.attempt)
        time.sleep(0.3)
        finished.append(context.attempt)
        return AgentResult(data={name: context.attempt})

    return handler


def test_an_agent_killed_mid_run_is_retried_and_its_dead_attempt_writes_nothing(
    runtime_factory,
):
    """The function's process dies 50 ms into its work (out of memory, say): Lambda answers
    Runtime.ExitError, Step Functions retries the step like any agent error; the dead
    attempt's work, finishing later in its thread, records nothing."""
    import time

    calls, finished = Calls(), []
    handlers = {"a": echo(calls, "a"), "b": slow_agent(calls, "b", finished), "c": echo(calls, "c")}
    runtime = runtime_factory(REGISTRY, handlers)
    runtime.inject_lambda_fault("b", "Killed", times=1)
    record = runtime.execute(compiled(THREE, REGISTRY))
    assert record["status"] == "completed", record.get("error")
    time.sleep(0.5)  # the killed attempt's thread has finished by now
    assert sorted(finished) == [1, 2]
    again = runtime.services.lifecycle.get("default", record["executionId"])
    assert steps_of(again) == [("a", 1), ("b", 2), ("c", 1)]  # b once: the live attempt's
    assert again["output"]["b"] == 2
    [killed] = [
        e["taskFailedEventDetails"]
        for e in runtime.history(record["currentRun"])
        if e["type"] == "TaskFailed"
    ]
    assert killed["error"] == "Runtime.ExitError"
    assert "Runtime exited with error: signal: killed" in killed["cause"]


def test_an_agent_killed_on_every_attempt_fails_the_run_with_the_cause_and_resumes(
    runtime_factory,
):
    import time

    calls, finished = Calls(), []
    handlers = {"a": echo(calls, "a"), "b": slow_agent(calls, "b", finished), "c": echo(calls, "c")}
    runtime = runtime_factory(REGISTRY, handlers)
    runtime.inject_lambda_fault("b", "Killed", times=4)  # the first attempt and 3 retries
    definition = {**THREE, "id": "killed", "config": {"autoRecovery": False}}
    record = runtime.execute(compiled(definition, REGISTRY))
    assert record["status"] == "failed"
    assert record["error"]["errorType"] == "Runtime.ExitError"
    assert record["error"]["step"] == "b" and record["error"]["retryCount"] == 3
    assert "Runtime exited with error: signal: killed" in record["error"]["message"]
    time.sleep(0.5)
    assert steps_of(runtime.services.lifecycle.get("default", record["executionId"])) == [("a", 1)]
    assert record["checkpoint"]["after"] == "a"
    runtime.services.lifecycle.resume("default", record["executionId"])
    done = runtime.services.settle("default", record["executionId"])
    assert done["status"] == "completed", done.get("error")
    assert steps_of(done) == [("a", 1), ("b", 1), ("c", 1)]  # a not run again, b recorded once
    assert calls.count("a") == 1 and calls.count("b") == 5


def failing_once(real, service, concerned=lambda request: True):
    """`real` (a client's method), which fails once, unreachable, for the first request
    `concerned` accepts."""
    outage = {"left": 1}

    def call(**request):
        if concerned(request) and outage["left"]:
            outage["left"] -= 1
            raise ConnectionError(f"{service} is unreachable")
        return real(**request)

    return call


def test_an_events_handler_failing_after_the_record_is_settled_by_the_next_delivery(
    runtime_factory,
):
    """The handler applies the outcome to the record, then the archive write fails (S3 down):
    the delivery fails and EventBridge delivers the event again. The next delivery tells the
    world what the first could not (archive, events), and counts the statistics only once; a
    third delivery changes nothing."""
    import json

    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    services = runtime.services
    s3 = services.handler.outlets.s3
    real_put = s3.put_object
    s3.put_object = failing_once(
        real_put, "S3", lambda request: request["Bucket"] == runtime.manifest.archive_bucket
    )
    workflow = compiled({**THREE, "id": "settle"}, REGISTRY)
    runtime.deploy(workflow)
    started = services.lifecycle.start("settle", {})
    execution_id = started["executionId"]
    with pytest.raises(ConnectionError):
        services.settle("default", execution_id)
    applied = services.lifecycle.get("default", execution_id)
    assert applied["status"] == "completed"  # the record is true, the events are out...
    published = [e["detail-type"] for e in services.events()]
    assert published.count("Workflow Completed") == 1
    assert services.notifications() == []  # the last outlet: not reached
    with pytest.raises(s3.exceptions.NoSuchKey):  # ...but the archive is missing
        real_put.__self__.get_object(
            Bucket=runtime.manifest.archive_bucket, Key=f"default/settle/{execution_id}.json"
        )

    settled = services.settle("default", execution_id)  # EventBridge's next delivery
    assert settled["status"] == "completed"
    archived = json.loads(
        real_put.__self__.get_object(
            Bucket=runtime.manifest.archive_bucket, Key=f"default/settle/{execution_id}.json"
        )["Body"].read()
    )
    assert archived["status"] == "completed" and len(archived["handoffs"]) == 3
    assert "Workflow Completed" not in [e["detail-type"] for e in services.events()]  # once
    [notified] = services.notifications()
    assert notified["Subject"] == "Workflow Completed"
    stats = services.stats.summaries(["a", "b", "c"], services.catalog.workflows)
    assert [stats[n]["calls"] for n in NAMES] == [1, 1, 1]  # counted once

    # one more delivery: applied and settled, so nothing happens
    event = services.status_change_event(settled["currentRun"])
    assert services.handler.handle(event) == {"ignored": "this run's outcome was applied already"}
    assert "Workflow Completed" not in [e["detail-type"] for e in services.events()]
    assert services.notifications() == []


def test_a_notification_that_fails_is_sent_by_the_next_delivery_and_nothing_else_again(
    runtime_factory,
):
    """The notification is the outcome's last outlet, and its mark is the settlement's: when
    SNS fails, the next delivery sends it, and publishes, archives and counts nothing again."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    services = runtime.services
    sns = services.handler.outlets.sns
    sns.publish = failing_once(sns.publish, "SNS")
    workflow = compiled({**THREE, "id": "notify"}, REGISTRY)
    runtime.deploy(workflow)
    execution_id = services.lifecycle.start("notify", {})["executionId"]
    with pytest.raises(ConnectionError):
        services.settle("default", execution_id)
    item = services.store.get("default", execution_id)
    assert item["publishedRun"] == item["finishedRun"] == 1
    assert "notifiedRun" not in item and "settledRun" not in item
    assert services.notifications() == []
    first = [e["detail-type"] for e in services.events()]
    assert first.count("Workflow Completed") == 1

    assert services.settle("default", execution_id)["status"] == "completed"
    [notified] = services.notifications()
    assert notified["Subject"] == "Workflow Completed"
    assert services.events() == []  # published once
    item = services.store.get("default", execution_id)
    assert item["notifiedRun"] == item["settledRun"] == 1  # one write marks both
    stats = services.stats.summaries(["a", "b", "c"], services.catalog.workflows)
    assert [stats[n]["calls"] for n in NAMES] == [1, 1, 1]


def test_an_outcome_applied_without_its_counted_mark_is_counted_by_the_next_delivery(
    runtime_factory,
):
    """The outcome's write marks the run counted. An outcome an earlier version applied alone
    (its counted mark a write of its own, not made: the delivery failed between the two, here
    the statistics write) is counted by the next delivery, once."""
    calls = Calls()
    runtime = runtime_factory(REGISTRY, {n: echo(calls, n) for n in NAMES})
    services = runtime.services
    stats = services.handler.stats
    real_record = stats.record
    outage = {"left": 1}

    def failing_record(*args, **kwargs):
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionError("DynamoDB is unreachable")
        return real_record(*args, **kwargs)

    stats.record = failing_record
    workflow = compiled({**THREE, "id": "recount"}, REGISTRY)
    runtime.deploy(workflow)
    execution_id = services.lifecycle.start("recount", {})["executionId"]
    with pytest.raises(ConnectionError):
        services.settle("default", execution_id)
    table = runtime.manifest.tables["executions"].name
    key = {"pk": {"S": f"EXEC#default#{execution_id}"}, "sk": {"S": "RECORD"}}
    item = runtime.dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert item["countedRun"] == item["finishedRun"]  # marked by the outcome's own write
    runtime.dynamodb.update_item(TableName=table, Key=key, UpdateExpression="REMOVE countedRun")

    assert services.settle("default", execution_id)["status"] == "completed"
    summaries = services.stats.summaries(list(NAMES), services.catalog.workflows)
    assert [summaries[n]["calls"] for n in NAMES] == [1, 1, 1]  # counted, once
    event = services.status_change_event(
        services.lifecycle.get("default", execution_id)["currentRun"]
    )
    assert services.handler.handle(event) == {"ignored": "this run's outcome was applied already"}
    summaries = services.stats.summaries(list(NAMES), services.catalog.workflows)
    assert [summaries[n]["calls"] for n in NAMES] == [1, 1, 1]


def ended_run(runtime, workflow_id):
    """A three-step execution whose run has ended, its end not yet delivered: (execution id,
    the status-change event of its end)."""
    runtime.deploy(compiled({**THREE, "id": workflow_id}, REGISTRY))
    started = runtime.services.lifecycle.start(workflow_id, {})
    assert runtime.wait(started["currentRun"])["status"] == "SUCCEEDED"
    return started["executionId"], runtime.services.status_change_event(started["currentRun"])


def test_a_duplicate_delivered_while_the_first_settles_is_retried_not_applied_twice(
    runtime_factory,
):
    """EventBridge delivers the same end twice at once. The first applies the outcome and
    settles it; the second, finding it applied and not yet settled by a delivery that may
    still be settling it, fails (to be retried) instead of publishing and notifying again."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    services = runtime.services
    s3 = services.handler.outlets.s3
    real_put, entered, proceed = s3.put_object, threading.Event(), threading.Event()

    def slow_archive(**request):
        if request["Bucket"] == runtime.manifest.archive_bucket and not entered.is_set():
            entered.set()
            assert proceed.wait(10), "the test never let the first delivery go on"
        return real_put(**request)

    s3.put_object = slow_archive
    execution_id, event = ended_run(runtime, "twice")
    first: list[dict] = []
    delivery = threading.Thread(target=lambda: first.append(services.handler.handle(event)))
    delivery.start()
    assert entered.wait(10)  # the first has applied and published the outcome
    with pytest.raises(SettlementInProgressError, match=r"another delivery .* is settling it"):
        services.handler.handle(event)
    proceed.set()
    delivery.join(10)
    assert first == [{"status": "completed", "triggered": []}]
    assert services.store.get("default", execution_id)["settledRun"] == 1
    # the retry of the second, later: settled, so nothing happens
    assert services.handler.handle(event) == {"ignored": "this run's outcome was applied already"}
    assert kinds(services.events()).count("Workflow Completed") == 1
    assert len(services.notifications()) == 1
    stats = services.stats.summaries(list(NAMES), services.catalog.workflows)
    assert [stats[n]["calls"] for n in NAMES] == [1, 1, 1]


class Killed(BaseException):
    """The function killed mid-delivery (its timeout): no handler of its own runs."""


def test_a_delivery_killed_while_settling_is_taken_over_once_its_lease_has_passed(
    runtime_factory,
):
    """The delivery that applied the outcome is killed after publishing it: its lease keeps a
    retry from settling it until the lease has passed (the function has surely ended); then
    the retry notifies and archives it, and publishes nothing again."""
    runtime = runtime_factory(REGISTRY, {n: echo(Calls(), n) for n in NAMES})
    services = runtime.services
    now = [1_900_000_000.0]
    services.handler.clock = lambda: now[0]
    s3 = services.handler.outlets.s3
    real_put, killed = s3.put_object, {"left": 1}

    def killing_archive(**request):
        if request["Bucket"] == runtime.manifest.archive_bucket and killed["left"]:
            killed["left"] -= 1
            raise Killed
        return real_put(**request)

    s3.put_object = killing_archive
    execution_id, event = ended_run(runtime, "killed")
    with pytest.raises(Killed):
        services.handler.handle(event)
    item = services.store.get("default", execution_id)
    assert item["settlingUntil"] == int(now[0]) + SETTLING_SECONDS
    assert "settledRun" not in item
    assert kinds(services.events()).count("Workflow Completed") == 1
    now[0] += SETTLING_SECONDS - 1
    with pytest.raises(SettlementInProgressError):
        services.handler.handle(event)  # Lambda's retry, too soon
    now[0] += 2
    assert services.handler.handle(event) == {"status": "completed", "triggered": []}
    assert services.events() == []  # published once, by the killed delivery
    [notified] = services.notifications()
    assert notified["Subject"] == "Workflow Completed"
    archived = real_put.__self__.get_object(
        Bucket=runtime.manifest.archive_bucket, Key=f"default/killed/{execution_id}.json"
    )
    assert archived["ContentLength"] > 0
    assert services.store.get("default", execution_id)["settledRun"] == 1
