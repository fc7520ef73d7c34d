"""moto's Lambda invocations answered by the fake Lambda (baton.local.fake_lambda) as Lambda
answers Step Functions."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_utils
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
    LambdaFunctionErrorException,
)

from baton.local.fake_lambda import REQUEST_ID_HEADER, Dispatcher, integration_result
from baton.local.seams.adaptation import Adaptation

FIDELITY = "tests/functional/test_offline_fidelity.py"
SEAMS = "tests/functional/test_seams.py"


def _dispatched_to(dispatcher: Dispatcher) -> Callable[[Any], Any]:
    """LambdaSimpleBackend.invoke: the agent's handler called in-process (moto's simple Lambda
    answers every invocation with a fixed text)."""

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
