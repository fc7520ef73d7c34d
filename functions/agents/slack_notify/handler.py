"""Agent 11, slack-notify: the price-change message in Slack's incoming-webhook format."""

from __future__ import annotations

from typing import Any

from agents.common.pages import require
from baton_agent import AgentContext, AgentResult, agent


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    url, current, last = require(data, "targetUrl", "currentPrice", "lastKnownPrice")
    direction = "dropped" if current < last else "rose"
    text = f"Price {direction} from {last:.2f} to {current:.2f} on {url}"
    drop = data.get("dropPercent")
    if isinstance(drop, int | float) and drop > 0:
        text += f" ({drop:g}% cheaper)"
    message = {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":rotating_light: *{text}*"}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"workflow {context.execution.get('workflowId')}"}
                ],
            },
        ],
    }
    return AgentResult(
        data={"slack": {"channel": data.get("slackChannel", "#alerts"), "message": message}}
    )
