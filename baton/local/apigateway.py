"""API Gateway REST proxy events, as API Gateway hands them to the API Lambda (Cognito user pool
authorizer: the verified token's claims under requestContext.authorizer.claims)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any


def rest_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    claims: Mapping[str, Any] | None = None,
    stage: str = "local",
) -> dict[str, Any]:
    headers = dict(headers or {})
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": dict(claims)} if claims else {},
        },
        "body": body,
        "isBase64Encoded": False,
    }
