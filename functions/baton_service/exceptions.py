"""Lifecycle errors, each with the fields a caller (CLI, API) needs to answer well."""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of the lifecycle service's errors."""


class ExecutionNotFoundError(LifecycleError):
    def __init__(self, tenant: str, execution_id: str) -> None:
        self.tenant, self.execution_id = tenant, execution_id
        super().__init__(f"no execution {execution_id!r} for tenant {tenant!r}")


class IdempotencyConflictError(LifecycleError):
    def __init__(self, key: str, execution_id: str) -> None:
        self.key, self.execution_id = key, execution_id
        super().__init__(
            f"idempotency key {key!r} was already used for execution {execution_id!r} "
            "with a different input"
        )


class InvalidTransitionError(LifecycleError):
    def __init__(self, execution_id: str, status: str, action: str) -> None:
        self.execution_id, self.status, self.action = execution_id, status, action
        super().__init__(f"cannot {action} execution {execution_id!r}: it is {status}")


class ResumePointMissingError(LifecycleError):
    def __init__(self, execution_id: str, step: str) -> None:
        self.execution_id, self.step = execution_id, step
        super().__init__(
            f"cannot resume execution {execution_id!r}: its checkpoint follows step {step!r}, "
            "which the workflow definition no longer has"
        )


class RunStillFinishingError(LifecycleError):
    """A resume that would run a step again: the stopped run's agent may still be running it
    (Step Functions ends a run at once; the function runs on and records its step)."""

    def __init__(self, execution_id: str, steps: list[str], until: str | None) -> None:
        self.execution_id, self.steps, self.until = execution_id, steps, until
        if until is None:  # the run itself has not ended
            super().__init__(
                f"cannot resume execution {execution_id!r}: its last run is still running (its "
                "stop did not take effect); cancel a paused execution to stop it, or let the "
                "run end, then resume"
            )
            return
        which = ", ".join(steps)
        super().__init__(
            f"cannot resume execution {execution_id!r} yet: its last run's {which} may still "
            f"be running (until {until} at the latest); resume once it has recorded its step "
            "or that time has passed"
        )


class WorkflowNotFoundError(LifecycleError):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"no deployed workflow {workflow_id!r}")


class InvalidPageTokenError(LifecycleError):
    def __init__(self) -> None:
        super().__init__("nextToken is not a token this listing gave")


class InvalidInputError(LifecycleError):
    """A caller's value the lifecycle does not accept: `field` names it, the message says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")
