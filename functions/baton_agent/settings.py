"""The agent runtime's environment, read once into a typed settings model."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from baton_agent.tables import AGENT_STATS, CACHE, EXECUTIONS


class AgentSettings(BaseSettings):
    """`BATON_*` environment variables (the CDK stack sets them; the offline runtime too)."""

    model_config = SettingsConfigDict(env_prefix="BATON_", frozen=True)

    executions_table: str = EXECUTIONS.default_name
    cache_table: str = CACHE.default_name
    stats_table: str = AGENT_STATS.default_name
    region: str = "us-east-1"
    # for the events handler (the stack sets them; empty means "not configured")
    event_bus: str = ""
    topic_arn: str = ""
    archive_bucket: str = ""
    workflows: str = "[]"
    """JSON list of {workflowId, name, stateMachineArn, autoRecovery, maxRecoveries, triggers}."""


@lru_cache(maxsize=1)
def get_settings() -> AgentSettings:
    return AgentSettings()
