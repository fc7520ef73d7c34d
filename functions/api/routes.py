"""The REST API's routes (Powertools event handler): parse and validate, take the tenant from
the verified identity, delegate to baton_service.api.ApiService, answer JSON.

Errors are JSON `{"message": ...}`: 400 names the bad field, 401 without a verified tenant,
404 for unknown ids (another tenant's included), 409 for conflicts, 413 for a body over
256 KiB (what Step Functions accepts as input). Bad input never gives a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

from baton_service.api import ApiService
from baton_service.exceptions import (
    ExecutionNotFoundError,
    IdempotencyConflictError,
    InvalidInputError,
    InvalidPageTokenError,
    InvalidTransitionError,
    ResumePointMissingError,
    RunStillFinishingError,
    WorkflowNotFoundError,
)
from baton_service.record import ExecutionRecord
from baton_service.tenants import TENANT_CLAIM, TENANT_SYNTAX, is_tenant

MAX_BODY_BYTES = 262_144
ERROR_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}}
Status = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
logger = Logger()


class StartExecution(BaseModel):
    """The execution's input data, merged over the workflow's initialData."""

    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] = Field(default_factory=dict)
    noCache: bool = False


ERRORS: dict[int, OpenAPIResponse] = {
    status: {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, description in (
        (400, "A bad field: the message names it"),
        (401, "No verified identity with a tenant claim"),
        (404, "No such workflow or execution for this tenant"),
        (
            409,
            "A conflict: idempotency key reused with another input, or a transition the "
            "execution's status does not allow",
        ),
        (413, "A body over 256 KiB"),
    )
}


def _responses(
    status: int, description: str, model: type[BaseModel] | None = None
) -> dict[int, OpenAPIResponse]:
    """The documented answers of a route; `model` is its body's schema (the one record model)."""
    answer: OpenAPIResponse = {"description": description}
    if model is not None:
        answer["content"] = {"application/json": {"model": model}}
    return {status: answer, **ERRORS}


def openapi_document(app: APIGatewayRestResolver) -> str:
    """The API's OpenAPI document, generated from the routes (`make openapi`)."""
    document = json.loads(
        app.get_openapi_json_schema(
            title="Baton API",
            version="1",
            description="Start, inspect, list, cancel, pause and resume executions of Baton "
            "workflows; describe workflows and agents. Every call acts for the tenant of the "
            f"bearer token's {TENANT_CLAIM} claim.",
            security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
            security=[{"cognito": []}],
        )
    )
    # validation errors answer 400 with a message naming the field, not Powertools' 422
    for path in document["paths"].values():
        for operation in path.values():
            operation["responses"].pop("422", None)
    for schema in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document.get("components", {}).get("schemas", {}).pop(schema, None)
    return json.dumps(document, indent=2) + "\n"


def _message(status: HTTPStatus, message: str) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body={"message": message})


def _field(location: tuple[Any, ...]) -> str:
    """`body.input`, `query.limit`, `header.idempotency-key`..."""
    return ".".join(str(part) for part in location if part != "") or "request"


def _problem(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":  # its location is a character offset
        reason = (error.get("ctx") or {}).get("error")
        return f"body: not valid JSON ({reason})" if reason else "body: not valid JSON"
    return f"{_field(error['loc'])}: {error['msg']}"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise json.JSONDecodeError(f"{text} is out of range for a JSON number", text, 0)
    return value


def _no_constants(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def strict_json(text: str) -> Any:
    """JSON as the standard says: no NaN, no Infinity, no number too large for a double
    (Step Functions and DynamoDB would refuse them later, far from the request)."""
    return json.loads(text, parse_float=_finite, parse_constant=_no_constants)


def create_app(service: Callable[[], ApiService]) -> APIGatewayRestResolver:
    """The API on `service` (built once per container by the caller)."""
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=strict_json)

    def tenant() -> str:
        return str(app.context["tenant"])

    def verified_tenant(
        app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        claims = app.current_event.request_context.authorizer.claims or {}
        claimed = claims.get(TENANT_CLAIM)
        if not is_tenant(claimed):
            return _message(
                HTTPStatus.UNAUTHORIZED,
                f"a verified identity with a {TENANT_CLAIM} claim ({TENANT_SYNTAX}) is required",
            )
        body = app.current_event.body or ""
        if len(body.encode("utf-8")) > MAX_BODY_BYTES:
            return _message(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is over {MAX_BODY_BYTES // 1024} KiB",
            )
        app.append_context(tenant=claimed)
        return next_middleware(app)

    app.use(middlewares=[verified_tenant])

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response[Any]:
        problems = [_problem(e) for e in error.errors()]
        return _message(HTTPStatus.BAD_REQUEST, "; ".join(problems) or "invalid request")

    @app.exception_handler([ExecutionNotFoundError, WorkflowNotFoundError])
    def not_found(error: Exception) -> Response[Any]:
        return _message(HTTPStatus.NOT_FOUND, str(error))

    @app.exception_handler(
        [
            IdempotencyConflictError,
            InvalidTransitionError,
            ResumePointMissingError,
            RunStillFinishingError,
        ]
    )
    def conflict(error: Exception) -> Response[Any]:
        return _message(HTTPStatus.CONFLICT, str(error))

    @app.exception_handler(InvalidInputError)
    def bad_input(error: InvalidInputError) -> Response[Any]:
        where = {"input": "body.input", "idempotencyKey": "header.Idempotency-Key"}
        return _message(
            HTTPStatus.BAD_REQUEST, f"{where.get(error.field, error.field)}: {error.reason}"
        )

    @app.exception_handler(InvalidPageTokenError)
    def bad_token(error: InvalidPageTokenError) -> Response[Any]:
        return _message(HTTPStatus.BAD_REQUEST, f"query.nextToken: {error}")

    @app.post(
        "/workflows/<workflow_id>/executions",
        summary="Start an execution",
        responses=_responses(
            201,
            "The execution as its run starts (its handoffs and checkpoint: GET the execution)",
            ExecutionRecord,
        ),
    )
    def start(
        workflow_id: str,
        request: Annotated[StartExecution | None, Body()] = None,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=1, max_length=128)
        ] = None,
    ) -> Response[Any]:
        request = request or StartExecution()  # no body: no input
        record = service().start(
            tenant(),
            workflow_id,
            request.input,
            no_cache=request.noCache,
            idempotency_key=idempotency_key,
        )
        return Response(
            status_code=HTTPStatus.CREATED, content_type="application/json", body=record
        )

    @app.get(
        "/executions/<execution_id>",
        summary="An execution: record, handoffs, runs",
        responses=_responses(200, "OK", ExecutionRecord),
    )
    def get_execution(execution_id: str) -> dict[str, Any]:
        return service().get(tenant(), execution_id)

    @app.get(
        "/workflows/<workflow_id>/executions",
        summary="A workflow's executions, newest first",
        responses=_responses(200, "OK"),
    )
    def list_executions(
        workflow_id: str,
        status: Annotated[Status | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        next_token: Annotated[str | None, Query(alias="nextToken", max_length=2048)] = None,
    ) -> dict[str, Any]:
        return service().list_executions(
            tenant(), workflow_id, status=status, limit=limit, next_token=next_token
        )

    @app.post(
        "/executions/<execution_id>/cancel",
        summary="Cancel (stop) an execution",
        responses=_responses(200, "OK", ExecutionRecord),
    )
    def cancel(execution_id: str) -> dict[str, Any]:
        return service().cancel(tenant(), execution_id)

    @app.post(
        "/executions/<execution_id>/pause",
        summary="Pause after the current step",
        responses=_responses(200, "OK", ExecutionRecord),
    )
    def pause(execution_id: str) -> dict[str, Any]:
        return service().pause(tenant(), execution_id)

    @app.post(
        "/executions/<execution_id>/resume",
        summary="Resume after the last completed step",
        responses=_responses(200, "OK", ExecutionRecord),
    )
    def resume(execution_id: str) -> dict[str, Any]:
        return service().resume(tenant(), execution_id)

    @app.get("/workflows", summary="The deployed workflows", responses=_responses(200, "OK"))
    def workflows() -> dict[str, Any]:
        return {"workflows": service().workflows()}

    @app.get(
        "/workflows/<workflow_id>",
        summary="A workflow: definition and Mermaid graph",
        responses=_responses(200, "OK"),
    )
    def workflow(workflow_id: str) -> dict[str, Any]:
        return service().workflow(workflow_id)

    @app.get(
        "/agents",
        summary="The agents, with their accuracy statistics",
        responses=_responses(200, "OK"),
    )
    def agents() -> dict[str, Any]:
        return {"agents": service().agents()}

    return app
