"""Agent 11, slack-notify: posts the price change to a Slack incoming webhook."""

from __future__ import annotations

import json
from typing import Any

from agents.common.web import absolute, request, require
from baton_agent import AgentContext, AgentResult, agent


def message(data: dict[str, Any], workflow: str) -> dict[str, Any]:
    url, current, last = data["targetUrl"], data["currentPrice"], data["lastKnownPrice"]
    direction = "dropped" if current < last else "rose"
    text = f"Price {direction} from {last:.2f} to {current:.2f} on {url}"
    drop = data.get("dropPercent")
    if isinstance(drop, int | float) and drop > 0:
        text += f" ({drop:g}% cheaper)"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":rotating_light: *{text}*"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"workflow {workflow}"}]},
        ],
    }


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    (hook,) = require(data, "slackWebhookUrl")
    require(data, "targetUrl", "currentPrice", "lastKnownPrice")
    body = message(data, str(context.execution.get("workflowId")))
    response = request(
        "POST",
        absolute(data, hook),
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    return AgentResult(
        data={"slack": {"text": body["text"], "status": response.status, "answer": response.text}}
    )
