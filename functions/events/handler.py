"""Lambda handler for Step Functions "Execution Status Change" events of runs' ends (routed by
EventBridge) and for the reports Express runs make of their own end (they send no such events).

It only parses, builds its collaborators once per container from the settings, and delegates
to baton_service.events.StatusChangeHandler.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from baton_agent import init_phase
from baton_agent.payloads import S3PayloadStore
from baton_agent.settings import get_settings
from baton_agent.stats import DynamoAccuracyStats
from baton_service.catalog import StaticCatalog
from baton_service.events import Outlets, StatusChangeHandler
from baton_service.lifecycle import LifecycleService
from baton_service.publishing import EventPublisher
from baton_service.store import ExecutionStore

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest


@functools.lru_cache(maxsize=1)
def status_change_handler() -> StatusChangeHandler:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.region)
    s3 = boto3.client("s3", region_name=settings.region)
    lifecycle = LifecycleService(  # it starts triggers and recoveries; its publisher, every event
        ExecutionStore(settings.executions_table, dynamodb),
        boto3.client("stepfunctions", region_name=settings.region),
        StaticCatalog.from_file(settings.workflows_file, settings.state_machine_arn_prefix),
        S3PayloadStore.of(settings.payload_bucket, s3),
        EventPublisher(boto3.client("events", region_name=settings.region), settings.event_bus),
    )
    outlets = Outlets(
        sns=boto3.client("sns", region_name=settings.region),
        topic_arn=settings.topic_arn or None,
        s3=s3,
        archive_bucket=settings.archive_bucket or None,
    )
    return StatusChangeHandler(
        lifecycle, DynamoAccuracyStats(settings.stats_table, dynamodb), outlets
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repair = event.get("repair")
    if isinstance(repair, dict):  # `baton repair`: deliver the current run's status again
        result = status_change_handler().repair(
            str(repair.get("tenant", "default")), str(repair.get("executionId", ""))
        )
        logger.info("repair handled", extra={"outcome": result, "repair": repair})
        return result
    report = event.get("expressRun")
    if isinstance(report, dict):  # an Express run reports its own end
        result = status_change_handler().report(report)
        logger.info("express run report handled", extra={"outcome": result})
        return result
    result = status_change_handler().handle(event)
    logger.info(
        "status change handled",
        extra={"outcome": result, "status": event.get("detail", {}).get("status")},
    )
    return result


init_phase.release()  # the module is loaded: the init phase's objects are frozen
