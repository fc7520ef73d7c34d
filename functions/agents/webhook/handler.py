"""Agent 4, webhook: POSTs the records as JSON to the client's endpoint, signed.

The body is signed with HMAC-SHA256 under a key from Secrets Manager (`webhookSecret` names
it); the receiver checks the `X-Baton-Signature: sha256=<hex>` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from agents.common.web import absolute, request, require
from baton_agent import AgentContext, AgentResult, agent

SIGNATURE_HEADER = "X-Baton-Signature"


def sign(body: bytes, key: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@agent
def handler(data: dict[str, Any], context: AgentContext) -> AgentResult:
    target, records, secret = require(data, "webhookUrl", "records", "webhookSecret")
    url = absolute(data, target)
    body = json.dumps(
        {
            "workflow": context.execution.get("workflowId"),
            "execution": context.execution_id,
            "records": records,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    signature = sign(body, context.secret(str(secret)).encode())
    response = request(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        expect=(200, 201, 202, 204),
    )
    return AgentResult(
        data={
            "webhook": {
                "url": url,
                "status": response.status,
                "bytes": len(body),
                "records": len(records),
                "signature": signature,
            }
        }
    )
