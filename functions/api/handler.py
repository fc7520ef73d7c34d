"""Lambda handler of Baton's REST API (API Gateway REST API, Cognito user pool authorizer).

It builds its collaborators once per container from the settings and delegates to the routes.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from api.routes import create_app
from baton_agent import init_phase
from baton_agent.payloads import S3PayloadStore
from baton_agent.settings import get_settings
from baton_agent.stats import DynamoAccuracyStats
from baton_service.api import ApiService
from baton_service.catalog import StaticCatalog
from baton_service.lifecycle import LifecycleService
from baton_service.pages import PageTokens
from baton_service.publishing import EventPublisher
from baton_service.store import ExecutionStore

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME, set by the manifest


@functools.lru_cache(maxsize=1)
def service() -> ApiService:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb", region_name=settings.region)
    catalog = StaticCatalog.from_file(settings.workflows_file, settings.state_machine_arn_prefix)
    tokens = PageTokens.from_secret(
        boto3.client("secretsmanager", region_name=settings.region), settings.page_token_secret
    )
    lifecycle = LifecycleService(
        ExecutionStore(settings.executions_table, dynamodb, tokens),
        boto3.client("stepfunctions", region_name=settings.region),
        catalog,
        S3PayloadStore.of(settings.payload_bucket, boto3.client("s3", region_name=settings.region)),
        EventPublisher(boto3.client("events", region_name=settings.region), settings.event_bus),
    )
    stats = DynamoAccuracyStats(settings.stats_table, dynamodb)
    return ApiService(lifecycle, catalog, stats, settings.region)


app = create_app(service)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


init_phase.release()  # the module is loaded: the init phase's objects are frozen
