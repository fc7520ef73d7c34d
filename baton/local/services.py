"""Baton's lifecycle and events handler wired to the offline AWS, with status events emulated.

Step Functions announces each run's status changes on EventBridge, and the stack routes its ends
to the events handler (a run's start is announced by the lifecycle that starts it). Offline there
is no such delivery, so `settle` waits for the current run to end and hands the handler the
event AWS would have sent (the shape AWS documents).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

from baton.deploy.manifest import PAGE_TOKEN_KEY, Manifest, WorkflowDeployment, resolve_value
from baton.local.resources import LocalResources
from baton.local.seams.executions import Ends, running_now
from baton.local.seams.express_runs import inspecting
from baton_agent.keys import is_express_run as is_express
from baton_agent.payloads import S3PayloadStore
from baton_agent.stats import DynamoAccuracyStats
from baton_agent.tables import AGENT_STATS, EXECUTIONS
from baton_service.api import ApiService
from baton_service.catalog import StaticCatalog, WorkflowInfo
from baton_service.events import Outlets, StatusChangeHandler, status_change_event
from baton_service.lifecycle import LifecycleService
from baton_service.pages import PageTokens
from baton_service.publishing import EventPublisher
from baton_service.store import ExecutionStore

TAP_QUEUE = "baton-events-tap"
DRAINED = 10
"""Messages received at a time from the event tap and the inbox (SQS's most)."""

KEPT_EVENTS = 10_000
"""The most published events (and notifications) the offline runtime keeps for `events()`
(and `notifications()`) to return."""
NOTIFIED_OUTCOMES = frozenset({"completed", "failed", "cancelled"})
"""What the events handler answers when it has applied a run's outcome, and notified it."""
DELIVERY_TURNS = 64
"""Locks the deliveries of runs' status changes take turns on (a run's is one of them, by its
ARN): a fixed number, so nothing is kept per run."""


class LocalServices:
    def __init__(
        self,
        session: Any,
        manifest: Manifest,
        resources: LocalResources,
        ends: Ends,
        *,
        observed: bool = True,
    ) -> None:
        """`ends`: wakes a wait for a run when it ends. `observed`: read what Baton publishes
        and notifies through an SQS tap and inbox (the inbox's subscription costs moto an RSA
        key at the first notification)."""
        self.ends = ends
        self._turns = tuple(threading.RLock() for _ in range(DELIVERY_TURNS))
        region = resources.region
        self.sfn = session.client("stepfunctions", region_name=region)
        dynamodb = session.client("dynamodb", region_name=region)
        events = session.client("events", region_name=region)
        sns = session.client("sns", region_name=region)
        s3 = session.client("s3", region_name=region)
        self.sqs = session.client("sqs", region_name=region)
        self.region, self.account = region, resources.account
        self.resources = resources
        self.bus = manifest.event_bus
        events.create_event_bus(Name=self.bus)
        topic_arn = sns.create_topic(Name=manifest.topic)["TopicArn"]
        s3.create_bucket(Bucket=manifest.archive_bucket)
        s3.create_bucket(Bucket=manifest.payload_bucket)
        self.tap_url = self._tap(events) if observed else None
        self.inbox_url = self._inbox(sns, topic_arn, manifest.topic) if observed else None
        self.s3 = s3
        self.catalog = StaticCatalog(agents=list(manifest.agent_catalog))
        self.store = ExecutionStore(
            manifest.table(EXECUTIONS).name, dynamodb, self._page_tokens(session, manifest)
        )
        self.lifecycle = LifecycleService(
            self.store,
            self.sfn,
            self.catalog,
            S3PayloadStore(manifest.payload_bucket, lambda: s3),
            EventPublisher(events, self.bus),
        )
        self.stats = DynamoAccuracyStats(manifest.table(AGENT_STATS).name, dynamodb)
        self.api = ApiService(self.lifecycle, self.catalog, self.stats, region)
        self.handler = StatusChangeHandler(
            self.lifecycle,
            self.stats,
            Outlets(sns, topic_arn, s3, manifest.archive_bucket),
        )
        self._published: deque[dict[str, Any]] = deque(maxlen=KEPT_EVENTS)
        """Events taken off the tap queue as they come: a queue left to grow made every
        publish slower (moto's SQS), so the runtime slowed down with each execution."""
        self._notified: deque[dict[str, Any]] = deque(maxlen=KEPT_EVENTS)
        """Notifications taken off the inbox queue as each outcome is settled, for the same
        reason: moto's SQS reads every message of a queue at each message sent to it."""

    def _page_tokens(self, session: Any, manifest: Manifest) -> PageTokens:
        """The page-token key, generated into Secrets Manager as the stack does, and read from
        there by this store and by the API's own handler alike."""
        client = session.client("secretsmanager", region_name=self.region)
        name = manifest.service_secret_name(PAGE_TOKEN_KEY)
        with contextlib.suppress(client.exceptions.ResourceExistsException):
            client.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))
        return PageTokens.from_secret(client, name)

    def _tap(self, events: Any) -> str:
        """An SQS queue receiving every Baton event, so a person or a test can read them."""
        url = self.sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="baton-tap", EventBusName=self.bus, EventPattern=json.dumps({"source": ["baton"]})
        )
        events.put_targets(
            Rule="baton-tap", EventBusName=self.bus, Targets=[{"Id": "tap", "Arn": arn}]
        )
        return str(url)

    def _inbox(self, sns: Any, topic_arn: str, topic: str) -> str:
        """An SQS queue subscribed to the notification topic, to read what was notified."""
        url = self.sqs.create_queue(QueueName=f"{topic}-inbox")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        return str(url)

    def register(self, deployment: WorkflowDeployment) -> None:
        """Tell the lifecycle about a deployed workflow, from the catalog entry the stack ships."""
        entry = resolve_value(deployment.catalog_entry(), self.resources.resolve)
        prefix = self.resources.state_machine_arn("")
        self.catalog.register(WorkflowInfo.from_entry(entry, prefix))

    # emulated delivery -----------------------------------------------------------------
    def status_change_event(self, execution_arn: str) -> dict[str, Any]:
        """The EventBridge event Step Functions sends for a run's current status."""
        return status_change_event(self.sfn.describe_execution(executionArn=execution_arn))

    def deliver(self, execution_arn: str) -> dict[str, Any]:
        """Hand the events handler the status-change event of a run's current status; return
        the event. As EventBridge delivers at least once, a status may come more than once (the
        handler applies each once); a failed delivery is delivered again by the next call."""
        return self._handled(self.status_change_event(execution_arn))

    def _handled(self, event: dict[str, Any]) -> dict[str, Any]:
        """Two deliveries of one run's status at once (`baton serve` follows every run it
        starts while a caller settles the same execution) take turns: the events handler
        refuses the second while the first settles the outcome (SettlementInProgressError, for
        Lambda to retry once the first has ended); here it waits for the first to end, then
        finds the outcome applied."""
        run = str(event.get("detail", {}).get("executionArn", ""))
        with self._turns[zlib.crc32(run.encode()) % DELIVERY_TURNS]:
            self._handling(lambda: self.handler.handle(event))
        return event

    def report(self, report: dict[str, Any]) -> dict[str, Any]:
        """The events function's answer to an Express run's own report of its start or end (the
        run invokes it: offline, through the Lambda dispatcher)."""
        return self._handling(lambda: self.handler.report(report))

    def _handling(self, handle: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        try:
            result = handle()
            return result
        finally:
            if self.tap_url:
                self._published.extend(self._drain(self.tap_url))
            if self.inbox_url and result.get("status") in NOTIFIED_OUTCOMES:
                self._notified.extend(self._drain(self.inbox_url))

    def settle(
        self,
        tenant: str,
        execution_id: str,
        timeout: float = 600,
        *,
        current_run: str | None = None,
    ) -> dict[str, Any]:
        """Deliver each run's end (an Express run reports its own) until the execution stops
        running: its current run has ended (a paused or cancelled run ends once its current
        step returns) and its end started no recovery run. Each wait is woken by the run's end,
        never by a poll. Whether a run is still running is read from the run itself
        (running_now); it is described once, after its end (the event of its end comes from
        that answer); the record is read once after each run's end (that read names the next
        run, when a recovery started one, or is the view returned).
        `current_run`: the run the execution was just started with (its start's answer names
        it); without it, the record is read first to find it."""
        deadline = time.monotonic() + timeout
        run = current_run or self._current_run(tenant, execution_id)
        while run and time.monotonic() < deadline:
            express = is_express(run)  # it reports its end itself
            with self.ends.watch(run) as ended:
                if running_now(run):  # else ended already, or unknown: its description says
                    ended.wait(max(0.0, deadline - time.monotonic()))
                described = self._described(run)
                while described["status"] == "RUNNING" and time.monotonic() < deadline:
                    ended.wait(max(0.0, deadline - time.monotonic()))
                    described = self._described(run)
                if described["status"] == "RUNNING":
                    break  # out of time: the record as it stands
                if not express:
                    self._handled(status_change_event(described))
            record = self.lifecycle.get(tenant, execution_id)
            if record.get("currentRun") == run:
                return record  # no recovery started another run
            run = record.get("currentRun")
        return self.lifecycle.get(tenant, execution_id)

    def _described(self, run: str) -> dict[str, Any]:
        with inspecting():
            return dict(self.sfn.describe_execution(executionArn=run))

    def _current_run(self, tenant: str, execution_id: str) -> str | None:
        record = self.lifecycle.get(tenant, execution_id, with_handoffs=False)
        return record.get("currentRun")

    def events(self) -> list[dict[str, Any]]:
        """Every Baton event published since the last call (the latest KEPT_EVENTS)."""
        self._published.extend(self._drain(self._observing(self.tap_url)))
        taken = list(self._published)
        self._published.clear()
        return taken

    def notifications(self) -> list[dict[str, Any]]:
        """Every SNS notification sent since the last call (Subject, Message...; the latest
        KEPT_EVENTS)."""
        self._notified.extend(self._drain(self._observing(self.inbox_url)))
        taken = list(self._notified)
        self._notified.clear()
        return taken

    @staticmethod
    def _observing(url: str | None) -> str:
        if url is None:
            raise RuntimeError(
                "this offline runtime does not observe Baton's events and notifications "
                "(LocalRuntime(observe_events=False))"
            )
        return url

    def _drain(self, url: str) -> list[dict[str, Any]]:
        """Every message in the queue, received and deleted. moto answers a receive with every
        visible message up to the 10 asked for, so a batch of fewer is the last one."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=DRAINED).get(
                "Messages", []
            )
            if not batch:
                return received
            received += [json.loads(message["Body"]) for message in batch]
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                ],
            )
            if len(batch) < DRAINED:
                return received
