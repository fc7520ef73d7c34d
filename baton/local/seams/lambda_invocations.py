"""moto's Lambda invocations answered by the fake Lambda (baton.local.fake_lambda) as Lambda
answers Step Functions."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_utils
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)

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
    ]
