"""Express executions offline as AWS has them (moto runs them exactly like Standard ones).

AWS gives an Express execution an ARN of its own kind, `...:express:<machine>:<name>:<id>`, and
refuses the calls Express has no answer for: DescribeExecution, GetExecutionHistory and
StopExecution (InvalidArn: the resource type is not valid in that context) and ListExecutions
(StateMachineTypeNotSupported). Without these seams an offline test could pass by reading what
AWS never shows. The offline harness itself (waiting for a run to end, printing its steps) reads
them inside `inspecting()`, as an operator reads an Express run's CloudWatch logs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import InvalidArn
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.responses import StepFunctionResponse

from baton.local.seams.adaptation import Adaptation
from baton_agent.keys import is_express_run as is_express

_harness = threading.local()


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


@contextmanager
def inspecting() -> Iterator[None]:
    """Calls in this block (this thread) are the offline harness's: Express runs answer."""
    before = getattr(_harness, "on", False)
    _harness.on = True
    try:
        yield
    finally:
        _harness.on = before


def _express(kind: Any) -> bool:
    return str(getattr(kind, "value", kind)) == "EXPRESS"


def express_arns(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """Execution.start: an Express execution gets an Express ARN (its context object's
    Execution.Id too) before its worker starts."""

    def start(execution: Any) -> None:
        if _express(getattr(execution.state_machine, "type", "")):  # its sm_type is always STANDARD
            prefix, _, rest = execution.exec_arn.partition(":execution:")
            arn = f"{prefix}:express:{rest}:{uuid.uuid4()}"
            execution.exec_arn = execution.execution_arn = arn
        original(execution)

    return start


def express_arns_valid(original: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """The backend's own check of an execution ARN accepts the Express kind (the response
    layer decides what AWS answers: `refused_for_express`)."""

    def validate(backend: Any, execution_arn: str) -> None:
        if is_express(execution_arn):
            execution_arn = execution_arn.replace(":express:", ":execution:", 1)
        original(backend, execution_arn)

    return validate


def refused_for_express(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """DescribeExecution, GetExecutionHistory, StopExecution: InvalidArn for an Express run."""

    def answer(response: Any) -> Any:
        arn = str(response._get_param("executionArn") or "")
        if is_express(arn) and not getattr(_harness, "on", False):
            raise InvalidArn("Invalid Arn: 'Resource type not valid in this context: express'")
        return original(response)

    return answer


def listing_refused_for_express(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """ListExecutions of an Express state machine: StateMachineTypeNotSupported."""

    def answer(response: Any) -> Any:
        arn = str(response._get_param("stateMachineArn") or "")
        machine = response.stepfunction_backend.describe_state_machine(arn)
        if _express(getattr(machine, "type", "")) and not getattr(_harness, "on", False):
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        return original(response)

    return answer


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "express-arns",
            "an Express run has an Express ARN, which the backend accepts",
            f"{EXPRESS_TESTS}::test_the_offline_aws_refuses_what_aws_refuses_for_an_express_run",
            (
                (Execution, "start", express_arns),
                (StepFunctionBackend, "_validate_execution_arn", express_arns_valid),
            ),
        ),
        Adaptation(
            "express-calls-refused",
            "DescribeExecution, GetExecutionHistory, StopExecution and ListExecutions are"
            " refused for Express as AWS refuses them",
            f"{EXPRESS_TESTS}::test_the_offline_aws_refuses_what_aws_refuses_for_an_express_run",
            (
                *(
                    (StepFunctionResponse, name, refused_for_express)
                    for name in ("describe_execution", "get_execution_history", "stop_execution")
                ),
                (StepFunctionResponse, "list_executions", listing_refused_for_express),
            ),
        ),
    ]


EXPRESS_TESTS = "tests/functional/test_express.py"
