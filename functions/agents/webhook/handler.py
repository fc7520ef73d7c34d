"""Agent 4, webhook: prepares the signed JSON delivery of the records for the client's endpoint.

The body is signed with HMAC-SHA256 (header `X-Baton-Signature: sha256=<hex>`), so the receiver
can check it came from Baton and was not altered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from agents.common.pages import require
from baton_agent import AgentContext, AgentResult, agent

SIGNATURE_HEADER = "X-Baton-Signature"


def sign(body: bytes, key: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    url, records = require(data, "webhookUrl", "records")
    body = json.dumps(
        {"workflow": context.execution.get("workflowId"), "records": records},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    key = os.environ.get("BATON_WEBHOOK_KEY", "baton-local-signing-key").encode()
    return AgentResult(
        data={
            "webhook": {
                "url": url,
                "bytes": len(body),
                "records": len(records),
                "headers": {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, key)},
            }
        }
    )
