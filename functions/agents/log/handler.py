"""Agent 12, log: a structured log line for the record (used when nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from baton_agent import AgentContext, AgentResult, agent

logger = Logger()  # service name: POWERTOOLS_SERVICE_NAME


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    fields: dict[str, Any] = {
        k: data[k] for k in ("targetUrl", "currentPrice", "lastKnownPrice") if k in data
    }
    message = data.get("logMessage") or "no change: " + ", ".join(
        f"{k}={v}" for k, v in fields.items()
    )
    logger.info(message, extra=fields)
    return AgentResult(data={"log": {"message": message, "at": datetime.now(UTC).isoformat()}})
