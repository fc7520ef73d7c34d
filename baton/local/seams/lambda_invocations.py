"""moto's Lambda invocations answered by the fake Lambda (baton.local.fake_lambda) as Lambda
answers Step Functions."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_utils
from botocore.awsrequest import AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.parsers import create_parser
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.utils import get_backend as lambda_backend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
from moto.core.botocore_stubber import MockRawResponse
from moto.core.utils import utcnow
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)
from moto.utilities.aws_headers import gen_amz_crc32
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from baton.local.fake_lambda import (
    REQUEST_ID_HEADER,
    Dispatcher,
    function_name_of,
    integration_result,
)
from baton.local.seams.adaptation import Adaptation

FIDELITY = "tests/functional/test_offline_fidelity.py"
SEAMS = "tests/functional/test_seams.py"


def _dispatched_to(dispatcher: Dispatcher) -> Callable[[Any], Any]:
    """LambdaSimpleBackend.invoke: the agent's handler called in-process (moto's simple Lambda
    answers every invocation with a fixed text). A function that exists neither here nor in
    moto's Lambda is Lambda's ResourceNotFoundException (404): _missing_functions_not_found."""

    def change(_original: Any) -> Any:
        def invoke(
            backend: Any,
            function_name: str,
            qualifier: Any,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            return dispatcher.invoke(function_name, body, response_headers, qualifier)

        return invoke

    return change


def _missing_functions_not_found(dispatcher: Dispatcher) -> Callable[[Any], Any]:
    """LambdaSimpleBackend.invoke of a function Lambda does not have: Lambda's 404 naming the
    version asked for (`Function not found: arn:...:function:NAME:$LATEST`), which Step
    Functions reports as Lambda.ResourceNotFoundException; the dispatcher answered with a
    LookupError of its own. (A function the dispatcher handles need not exist in moto.)"""

    def change(original: Callable[..., bytes]) -> Callable[..., bytes]:
        def invoke(backend: Any, function_name: str, qualifier: Any, *args: Any) -> bytes:
            if not dispatcher.handles(function_name) and not _in_moto(
                backend, function_name, qualifier
            ):
                name = function_name_of(function_name)
                arn = f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:{name}"
                raise UnknownFunctionException(f"{arn}:{qualifier or '$LATEST'}")
            return original(backend, function_name, qualifier, *args)

        return invoke

    return change


def _in_moto(backend: Any, function_name: str, qualifier: Any) -> bool:
    try:
        backend.get_function(function_name, qualifier)
    except UnknownFunctionException:
        return False
    return True


def _request_id_kept(original: Callable[..., str]) -> Callable[..., str]:
    """moto's request id maker: a response that already names its request (a Lambda
    invocation's, the id its function saw) keeps it; moto gave every response a new one."""

    def request_id(headerdict: dict[str, Any] | None = None) -> str:
        if isinstance(headerdict, dict) and headerdict.get(REQUEST_ID_HEADER):
            return str(headerdict[REQUEST_ID_HEADER])
        return original(headerdict)

    return request_id


def _invoke_result_as_aws(original: Callable[..., None]) -> Callable[..., None]:
    """moto's `execute_lambda_function_integration`, its result as AWS gives it
    (fake_lambda.integration_result): moto's select_from_typed_dict kept only some fields."""

    def execute(env: Any, parameters: dict[str, Any], region: str, state_credentials: Any) -> None:
        if env.is_mocked_mode():
            original(env, parameters, region, state_credentials)
            return
        response = lambda_utils._invoke_lambda_function(
            parameters=parameters, region=region, state_credentials=state_credentials
        )
        if response.get("FunctionError"):
            payload = json.dumps(response["Payload"], separators=(",", ":"))
            raise LambdaFunctionErrorException(response["FunctionError"], payload)
        env.stack.append(integration_result(response))

    return execute


class _Clients:
    """One boto3 client per (region, service), created on first use inside the mock: moto
    built a new one for every Lambda invocation (~4 ms of CPU each, which serialized parallel
    branches on the GIL)."""

    def __init__(self, create: Callable[..., Any]) -> None:
        self.create = create
        self.clients: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()

    def __call__(self, region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with self.lock:
            if key not in self.clients:
                self.clients[key] = self.create(region=region, service=service)
            return self.clients[key]


PAYLOAD_LIMIT = 6000000
"""moto's limit of a synchronous invocation's response (Lambda's is 6 MB)."""


def _request_id(headers: dict[str, Any]) -> str:
    """moto's request id maker as it is now (lambda-request-ids keeps a given id)."""
    return str(moto_responses.gen_amzn_requestid_long(headers))  # type: ignore[attr-defined]


class InProcessLambda:
    """Step Functions' Lambda client offline, its Invoke answered by moto's Lambda in-process:
    the HTTP round trip (serializing, moto's routing and request parsing) was a tenth of each
    step. The answer is what moto's Lambda handler answers (status, headers, body, errors),
    parsed by botocore's own response parser, as the client would parse it; like moto's client
    for Step Functions, it neither validates parameters nor retries."""

    def __init__(self, client: Any, account: str, region: str) -> None:
        self.client = client
        self.account, self.region = account, region
        self.operation = client.meta.service_model.operation_model("Invoke")
        self.parser = create_parser(client.meta.service_model.protocol)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def invoke(self, **params: Any) -> dict[str, Any]:
        status, headers, body = self._answer(params)
        response = AWSResponse("", status, headers, MockRawResponse(body))
        parsed: dict[str, Any] = self.parser.parse(
            convert_to_response_dict(response, self.operation), self.operation.output_shape
        )
        if status >= 300:
            error = parsed.get("Error", {})
            raise self.client.exceptions.from_code(error.get("Code"))(parsed, "Invoke")
        return parsed

    def _answer(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
        """moto's LambdaResponse.invoke, behind its dispatch (server and date headers, the
        request id, errors as their HTTP answers) and its CRC32 header."""
        headers: dict[str, Any] = {"server": "amazon.com", "date": http_date(utcnow())}
        kind = params.get("InvocationType", "RequestResponse")
        request_headers = {
            header: params[name]
            for name, header in (
                ("InvocationType", "X-Amz-Invocation-Type"),
                ("LogType", "X-Amz-Log-Type"),
                ("ClientContext", "X-Amz-Client-Context"),
            )
            if params.get(name)
        }
        answer: dict[str, Any] = {}
        try:
            payload = lambda_backend(self.account, self.region).invoke(
                params["FunctionName"],
                params.get("Qualifier"),
                params.get("Payload") or b"",
                request_headers,
                answer,
            )
        except HTTPException as error:
            status = int(error.code or 500)
            headers.update({**dict(error.get_headers() or []), "status": str(status)})
            _request_id(headers)
            return status, headers, error.description
        if payload is None:
            status, payload = 404, "{}"
        else:
            if kind != "Event" and sys.getsizeof(payload) > PAYLOAD_LIMIT:
                answer["Content-Length"] = "142"
                answer["x-amz-function-error"] = "Unhandled"
                payload = json.dumps(
                    {
                        "errorMessage": "Response payload size exceeded maximum allowed payload"
                        " size (6291556 bytes).",
                        "errorType": "Function.ResponseSizeTooLarge",
                    }
                ).encode("utf-8")
            answer["content-type"] = "application/json"
            status = {"Event": 202, "DryRun": 204}.get(kind, 200)
            if status != 200:
                answer["status"] = str(status)
            elif params.get("LogType") != "Tail":
                answer.pop("x-amz-log-result", None)
        headers.update(answer)
        gen_amz_crc32(payload, headers)
        _request_id(headers)
        return status, headers, payload


def _invoked_in_process(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's client maker for Step Functions' tasks: its Lambda client invokes in-process."""

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        client = original(region=region, service=service, state_credentials=state_credentials)
        if service != "lambda":
            return client
        return InProcessLambda(client, DEFAULT_ACCOUNT_ID, region)

    return client_for


def adaptations(dispatcher: Dispatcher) -> list[Adaptation]:
    return [
        Adaptation(
            "lambda-dispatcher",
            "a Lambda invocation runs the function's handler, with Lambda's context, timeout,"
            " concurrency and error payload (baton.local.fake_lambda)",
            f"{FIDELITY}::test_a_function_error_names_its_request_and_shows_only_the_functions_frames",
            ((LambdaSimpleBackend, "invoke", _dispatched_to(dispatcher)),),
        ),
        Adaptation(
            "missing-functions-not-found",
            "invoking a function Lambda does not have fails the Task with"
            " Lambda.ResourceNotFoundException and Lambda's 'Function not found' cause",
            f"{FIDELITY}::test_a_missing_function_is_lambdas_resource_not_found",
            ((LambdaSimpleBackend, "invoke", _missing_functions_not_found(dispatcher)),),
        ),
        Adaptation(
            "lambda-request-ids",
            "the response names the invocation's own request id",
            f"{FIDELITY}::test_the_lambda_invoke_result_is_lambdas_with_a_request_id_per_invocation",
            ((moto_responses, "gen_amzn_requestid_long", _request_id_kept),),
        ),
        Adaptation(
            "lambda-invoke-result",
            "the lambda:invoke result has ExecutedVersion, Payload, SdkHttpMetadata,"
            " SdkResponseMetadata and StatusCode",
            f"{FIDELITY}::test_the_lambda_invoke_result_is_lambdas_with_a_request_id_per_invocation",
            ((lambda_utils, "execute_lambda_function_integration", _invoke_result_as_aws),),
        ),
        Adaptation(
            "lambda-clients-reused",
            "(cost) one Lambda client per region, not one per invocation",
            f"{SEAMS}::test_step_functions_reuses_one_lambda_client",
            ((lambda_utils, "boto_client_for", _Clients),),
        ),
        Adaptation(
            "lambda-invoked-in-process",
            "(cost) Step Functions invokes a function in-process, answered and parsed as over"
            " HTTP, without the HTTP round trip",
            f"{SEAMS}::test_step_functions_invokes_lambda_in_process_with_lambdas_answer",
            ((lambda_utils, "boto_client_for", _invoked_in_process),),
        ),
    ]
