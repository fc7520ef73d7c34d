"""Lambda handler of EventBridge Scheduler's target: start a scheduled execution.

It builds its collaborators once per container from the settings and delegates.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from baton_agent import init_phase
from baton_agent.payloads import S3PayloadStore
from baton_agent.settings import get_settings
from baton_service.catalog import StaticCatalog
from baton_service.lifecycle import LifecycleService
from baton_service.publishing import EventPublisher
from baton_service.schedules import start_scheduled
from baton_service.store import ExecutionStore

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest


@functools.lru_cache(maxsize=1)
def lifecycle() -> LifecycleService:
    settings = get_settings()
    return LifecycleService(
        ExecutionStore(
            settings.executions_table, boto3.client("dynamodb", region_name=settings.region)
        ),
        boto3.client("stepfunctions", region_name=settings.region),
        StaticCatalog.from_file(settings.workflows_file, settings.state_machine_arn_prefix),
        S3PayloadStore.of(settings.payload_bucket, boto3.client("s3", region_name=settings.region)),
        EventPublisher(boto3.client("events", region_name=settings.region), settings.event_bus),
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = start_scheduled(lifecycle(), event)
    logger.info("scheduled execution", extra={**started, "workflowId": event.get("workflowId")})
    return started


init_phase.release()  # the module is loaded: the init phase's objects are frozen
