"""Retry blocks: configured backoff for agent errors, jittered retriers for Lambda's own faults."""

from __future__ import annotations

import json
from typing import Any

from baton.definition.resolved import ResolvedWorkflow, RetryPolicy

LAMBDA_SERVICE_FAULTS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
LAMBDA_THROTTLING = ["Lambda.TooManyRequestsException"]
BUDGET_SPENT_ERROR = "BudgetSpentError"
"""The execution's time budget ran out before a step started: no retry, no fallback."""
STOPPED_ERROR = "ExecutionStoppedError"
"""An Express run's execution was cancelled or paused before a step started (cooperative);
only Express runs raise it, so only their state machines name it (every byte counts in a
1,000-step definition)."""
NOT_RETRIED = ["AgentInputError", BUDGET_SPENT_ERROR]
"""Errors that another attempt cannot fix (bad input, a spent budget): never retried."""


def ends_run(express: bool) -> list[str]:
    """Errors that end the run: neither a retry nor a fallback may hide them."""
    return [BUDGET_SPENT_ERROR, STOPPED_ERROR] if express else [BUDGET_SPENT_ERROR]


# ASL defaults (IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0) are left implicit: every byte
# counts in a 1,000-step definition, and Step Functions accepts at most 1 MB.
_SERVICE_FAULT_RETRIER: dict[str, Any] = {
    "ErrorEquals": LAMBDA_SERVICE_FAULTS,
    "JitterStrategy": "FULL",
}
_THROTTLING_RETRIER: dict[str, Any] = {
    "ErrorEquals": LAMBDA_THROTTLING,
    "MaxAttempts": 6,
    "MaxDelaySeconds": 20,
    "JitterStrategy": "FULL",
}


def retriers(policy: RetryPolicy, *, express: bool = False) -> list[dict[str, Any]]:
    """The Retry block of an agent step; `States.ALL` (agent errors) comes last and alone."""
    block = [dict(_SERVICE_FAULT_RETRIER), dict(_THROTTLING_RETRIER)]
    if policy.max_attempts == 0:
        return block
    not_retried = [*NOT_RETRIED, STOPPED_ERROR] if express else list(NOT_RETRIED)
    block.append({"ErrorEquals": not_retried, "MaxAttempts": 0})
    agent_errors: dict[str, Any] = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": policy.interval_seconds,
        "MaxAttempts": policy.max_attempts,
        "BackoffRate": policy.backoff_rate,
    }
    if policy.max_delay_seconds is not None:
        agent_errors["MaxDelaySeconds"] = policy.max_delay_seconds
    if policy.jitter:
        agent_errors["JitterStrategy"] = "FULL"
    block.append(agent_errors)
    return block


def service_retriers() -> list[dict[str, Any]]:
    """For a step that runs once (an alternative agent): only Lambda's own faults are retried."""
    return [dict(_SERVICE_FAULT_RETRIER), dict(_THROTTLING_RETRIER)]


def dynamodb_retriers() -> list[dict[str, Any]]:
    """For Baton's own bookkeeping writes: DynamoDB's transient faults, with jitter."""
    return [
        {
            "ErrorEquals": [
                "DynamoDB.ProvisionedThroughputExceededException",
                "DynamoDB.ThrottlingException",
                "DynamoDB.InternalServerErrorException",
                "DynamoDB.RequestLimitExceeded",
            ],
            "JitterStrategy": "FULL",
        }
    ]


def share_one_task(workflow: ResolvedWorkflow, agents: tuple[str, ...]) -> bool:
    """Whether a group's members can share one Task: the same Retry block, the same kind of
    fallback and the same timeouts (the Task reads each member's function and fields from its
    Map item; a timeout stays a number, which every ASL checker accepts)."""
    shapes = set()
    for agent in agents:
        policy = workflow.policy(agent)
        kind = policy.strategy if policy.strategy in ("skip", "alternative") else ""
        alternative = None
        if kind == "alternative":
            if policy.alternative:
                alternative = workflow.agent(policy.alternative).task_timeout_seconds
            else:
                kind = ""
        timeout = workflow.agent(agent).task_timeout_seconds
        shapes.add(json.dumps([retriers(policy.retry), kind, timeout, alternative]))
    return len(shapes) == 1
