"""The Lambda functions' environment, read once into a typed settings object.

The variable names are defined here and nowhere else: the deployment manifest (baton/deploy)
sets them, for the CDK stack and for the offline runtime alike. Plain `os.environ` reads, since
pydantic-settings alone costs ~84 ms of every cold start. A name that is not set reads as "";
the code that needs it says so when it is first used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache

EXECUTIONS_TABLE = "BATON_EXECUTIONS_TABLE"
CACHE_TABLE = "BATON_CACHE_TABLE"
STATS_TABLE = "BATON_STATS_TABLE"
EVENT_BUS = "BATON_EVENT_BUS"
TOPIC_ARN = "BATON_TOPIC_ARN"
ARCHIVE_BUCKET = "BATON_ARCHIVE_BUCKET"
PAYLOAD_BUCKET = "BATON_PAYLOAD_BUCKET"
"""Where large values of workflow data, inputs and outputs are kept (baton_agent.payloads)."""
WORKFLOWS_FILE = "BATON_WORKFLOWS_FILE"
"""A JSON file listing {workflowId, name, stateMachineName, autoRecovery, maxRecoveries,
retentionSeconds, triggers}: what the lifecycle knows of the deployed workflows."""
STATE_MACHINE_ARN_PREFIX = "BATON_STATE_MACHINE_ARN_PREFIX"
"""`arn:<partition>:states:<region>:<account>:stateMachine:`, completed by a name."""
SECRETS_PREFIX = "BATON_SECRETS_PREFIX"
"""Tenants' secrets are `<prefix>/<tenant>/<name>` in Secrets Manager (the deployment's prefix)."""
PAGE_TOKEN_SECRET = "BATON_PAGE_TOKEN_SECRET"
"""The secret holding the HMAC key of the API's page tokens (shared by its containers)."""
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"


@dataclass(frozen=True)
class AgentSettings:
    executions_table: str = ""
    cache_table: str = ""
    stats_table: str = ""
    event_bus: str = ""
    topic_arn: str = ""
    archive_bucket: str = ""
    payload_bucket: str = ""
    workflows_file: str = ""
    state_machine_arn_prefix: str = ""
    secrets_prefix: str = "baton"
    page_token_secret: str = ""
    region: str = "us-east-1"


VARIABLES: dict[str, str] = {
    "executions_table": EXECUTIONS_TABLE,
    "cache_table": CACHE_TABLE,
    "stats_table": STATS_TABLE,
    "event_bus": EVENT_BUS,
    "topic_arn": TOPIC_ARN,
    "archive_bucket": ARCHIVE_BUCKET,
    "payload_bucket": PAYLOAD_BUCKET,
    "workflows_file": WORKFLOWS_FILE,
    "state_machine_arn_prefix": STATE_MACHINE_ARN_PREFIX,
    "secrets_prefix": SECRETS_PREFIX,
    "page_token_secret": PAGE_TOKEN_SECRET,
}
"""Settings field → the environment variable it is read from."""


def read_settings(environ: Mapping[str, str] = os.environ) -> AgentSettings:
    """Settings from an environment; the region is Lambda's own (AWS_REGION)."""
    values = {
        f.name: environ[VARIABLES[f.name]]
        for f in fields(AgentSettings)
        if f.name in VARIABLES and VARIABLES[f.name] in environ
    }
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return AgentSettings(**values, region=region)


@lru_cache(maxsize=1)
def get_settings() -> AgentSettings:
    return read_settings()
