"""Express workflows: which fit, and the state machine that reports its own end.

An Express execution runs at most 5 minutes, and Step Functions keeps no history of it, sends no
status-change events for it and cannot stop it (DESIGN.md, "Step Functions facts"). So:

- a workflow may be `type: express` only when its worst case (every attempt run to its timeout,
  every backoff waited, every fallback taken, an auto-recovery's backoff) ends within 5 minutes,
  less the time the report of its end may take; a Distributed Map (child executions of its
  own) is Standard only;
- its state machine reports its end to the events function itself: the workflow runs as the
  one branch of a Parallel ("Run") whose Catch sees every error that ends it, and "Report
  success" or "Report failure" hand the end over, as a status-change event would
  (baton_service.events reads both alike); its start is announced by the lifecycle that
  starts it, as a Standard run's is;
- the workflow's `timeout` is kept between steps (the agent runtime's deadline), not by killing
  the run: a killed Express run would report nothing;
- cancel and pause are cooperative: the agent runtime reads the record before each step of an
  Express run and ends it with ExecutionStoppedError, which no retry or fallback hides.

Step Functions lets no Catch see `States.Runtime`: a run ending with it reports nothing, and
`baton repair` settles it once the run is surely over (baton_service.events).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from baton.compiler import naming
from baton.compiler.plan import Node, build_plan
from baton.definition.exceptions import Problem
from baton.definition.resolved import ResolvedWorkflow
from baton.definition.workflow import recovery_delays

EXPRESS_LIMIT_SECONDS = 300
"""An Express execution runs at most 5 minutes."""
EVENTS_FUNCTION_KEY = "EventsFn"
EVENTS_FUNCTION_PLACEHOLDER = "${" + EVENTS_FUNCTION_KEY + "}"
"""The events function's ARN: filled by CDK or by the offline runtime."""
RUN, REPORT_SUCCESS, REPORT_FAILURE, FAILED = naming.EXPRESS
"""State names the wrapper takes (names are unique across a whole state machine)."""
REPORT_TIMEOUT_SECONDS = 25
"""Longer than the events function's own timeout (baton.deploy.manifest), so a report Task never
gives up on a function that is still working."""
REPORT_RETRY: dict[str, Any] = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 1,
    "MaxAttempts": 1,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}
REPORTS_SECONDS = (REPORT_RETRY["MaxAttempts"] + 1) * REPORT_TIMEOUT_SECONDS + sum(
    REPORT_RETRY["IntervalSeconds"] * 2**k for k in range(REPORT_RETRY["MaxAttempts"])
)
"""The longest the report of the end can take: its attempts and waits."""
WORKFLOW_SECONDS = EXPRESS_LIMIT_SECONDS - REPORTS_SECONDS
"""The longest an Express workflow's own worst case may be."""


def worst_seconds(workflow: ResolvedWorkflow, items: Mapping[str, int] | None = None) -> float:
    """A run's longest duration: every attempt runs to its Task's timeout, every backoff is
    waited in full, every fallback agent runs to its timeout (fan-outs at `items`, default
    their `maxItems`; the workflow's own timeout may end a Standard run sooner)."""
    return _worst(workflow, build_plan(workflow), items or {})


def _worst(workflow: ResolvedWorkflow, nodes: list[Node], items: Mapping[str, int]) -> float:
    def agent_worst(agent: str) -> float:
        policy = workflow.policy(agent)
        attempts = policy.retry.max_attempts + 1
        seconds = attempts * workflow.agent(agent).task_timeout_seconds + sum(policy.retry.waits())
        if policy.strategy == "alternative" and policy.alternative:
            seconds += workflow.agent(policy.alternative).task_timeout_seconds
        return seconds

    total = 0.0
    for node in nodes:
        agent = node.agents[0]
        spec = workflow.for_each.get(agent)
        if spec is not None:
            rounds = math.ceil(items.get(agent, spec.max_items) / spec.max_concurrency)
            total += rounds * agent_worst(agent)
        else:
            total += max(agent_worst(member) for member in node.agents)
        if node.branching:
            total += max(
                _worst(workflow, node.branching.then, items),
                _worst(workflow, node.branching.else_, items),
            )
    return total


def express_problems(workflow: ResolvedWorkflow) -> list[Problem]:
    """Why the workflow cannot run as Express (empty: it can)."""
    problems = []
    worst = worst_seconds(workflow)
    config = workflow.source.config
    # a run started by auto-recovery first waits its backoff, inside the run
    recovery = max(recovery_delays(config), default=0) if config.auto_recovery else 0
    if worst + recovery > WORKFLOW_SECONDS:
        waited = f" after up to {recovery}s of auto-recovery backoff" if recovery else ""
        problems.append(
            Problem(
                workflow.file,
                "type",
                f"an express run lasts at most {EXPRESS_LIMIT_SECONDS}s, and this workflow's "
                f"worst case is {worst:g}s (every attempt to its timeout, every backoff, every "
                f"fallback){waited}, plus up to {REPORTS_SECONDS}s to report its end: at most "
                f"{WORKFLOW_SECONDS}s fits; lower timeouts or retries, or use type: standard",
            )
        )
    for agent, spec in workflow.for_each.items():
        if spec.distributed:
            problems.append(
                Problem(
                    workflow.file,
                    "type",
                    f"forEach {agent} runs {spec.max_concurrency} items at once, as a "
                    "Distributed Map, which only a standard workflow runs: lower its "
                    "maxConcurrency or use type: standard",
                )
            )
    return problems


def _report(status: str, **fields: str) -> str:
    """The report the events function reads as it reads a status-change event's detail."""
    extra = "".join(f", '{name}': {value}" for name, value in fields.items())
    return (
        "{% {'expressRun': {'executionArn': $states.context.Execution.Id, "
        "'name': $states.context.Execution.Name, "
        "'stateMachineArn': $states.context.StateMachine.Id, "
        f"'status': '{status}', "
        "'startDate': $states.context.Execution.StartTime, "
        "'input': {'tenant': $states.context.Execution.Input.tenant, "
        "'executionId': $states.context.Execution.Input.executionId}" + extra + "}} %}"
    )


def _report_task(status: str, comment: str, **fields: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Comment": comment,
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {
            "FunctionName": EVENTS_FUNCTION_PLACEHOLDER,
            "Payload": _report(status, **fields),
        },
        "TimeoutSeconds": REPORT_TIMEOUT_SECONDS,
        "Output": "{% $states.input %}",
    }


def reporting(body: dict[str, Any]) -> dict[str, Any]:
    """The Express state machine around `body` (the workflow's own StartAt and States)."""
    success = _report_task(
        "SUCCEEDED",
        "Hand the run's end to the events function (records, events, triggers)",
        output="$states.input",
        stopDate="$now()",
    )
    success["Retry"] = [dict(REPORT_RETRY)]
    success["End"] = True
    failure = _report_task(
        "FAILED",
        "Hand the run's failure to the events function (records, events, recovery)",
        error="$states.input.Error",
        cause="$states.input.Cause",
        stopDate="$now()",
    )
    failure["Retry"] = [dict(REPORT_RETRY)]
    failure["Next"] = FAILED
    catch = {"Output": "{% $states.errorOutput %}", "Next": REPORT_FAILURE}
    return {
        RUN: {
            "Type": "Parallel",
            "Comment": "The workflow; its Catch sees every error that ends it",
            "Branches": [body],
            "Output": "{% $states.result[0] %}",
            # the documentation says States.ALL does not match States.DataLimitExceeded (AWS
            # was recorded matching a Task's): named on its own, the Catch holds either way
            "Catch": [
                {"ErrorEquals": ["States.DataLimitExceeded"], **catch},
                {"ErrorEquals": ["States.ALL"], **catch},
            ],
            "Next": REPORT_SUCCESS,
        },
        REPORT_SUCCESS: success,
        REPORT_FAILURE: failure,
        FAILED: {
            "Type": "Fail",
            "Comment": "The run ends with the workflow's own error",
            "Error": "{% $states.input.Error %}",
            "Cause": "{% $states.input.Cause %}",
        },
    }
