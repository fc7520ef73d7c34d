"""Errors with stable names: Step Functions matches Retry and Catch on the exception class name."""

from __future__ import annotations


class AgentError(Exception):
    """An agent could not do its work this time; another attempt may succeed (retried)."""


class AgentInputError(AgentError):
    """The workflow data lacks what the agent needs; retrying cannot help (never retried)."""


class AccuracyBelowThreshold(AgentError):
    """The agent's result is less accurate than its registry entry requires (retried)."""

    def __init__(self, agent: str, accuracy: float, required: float) -> None:
        self.agent = agent
        self.accuracy = accuracy
        self.required = required
        super().__init__(f"Agent {agent} accuracy ({accuracy:g}%) below threshold ({required:g}%)")


class SecretLeakError(AgentInputError):
    """An agent returned data containing a secret it resolved: refused, and never retried."""


class SecretNotDeclaredError(AgentInputError):
    """An agent asked for a secret its registry entry does not declare: refused, not retried."""


class SecretDestinationError(AgentInputError):
    """A secret would go to a host no workflow or registry entry allows: refused, not retried."""


class PayloadTooLargeError(AgentInputError):
    """Data Step Functions could not carry (over 256 KiB) even with its large values in S3
    (fields a condition reads stay inline): refused before anything is written, and never
    retried (the same data would be refused again)."""


class PayloadReferenceError(AgentInputError):
    """Data refers to a stored payload that is not the run's tenant's, is gone, or does not
    match its digest: refused, not retried (another attempt reads the same reference)."""


class PayloadStoreError(AgentError):
    """The payload bucket could not be written or read this time (retried like an agent
    error; nothing was recorded)."""


class AttemptAbandonedError(AgentError):
    """An attempt that ended after its function's timeout: Step Functions no longer waits for
    it, so it writes nothing (no cache entry, handoff or checkpoint)."""


class BudgetSpentError(AgentError):
    """The execution's time budget (the workflow timeout, counted across all its runs) ran out
    before the step started: never retried, no fallback; the run fails."""


TOO_MANY_ITEMS_FAILED = "TooManyItemsFailed"
"""The error a fan-out (forEach) ends the run with when more of its items failed than its
toleratedFailurePercentage allows (a Fail state's, not an exception's: the items' own errors
are in its cause)."""


class ExecutionStoppedError(AgentError):
    """An Express run's execution was cancelled or paused, or superseded by a resume, before
    the step started (Express runs cannot be stopped: they check their record before each
    step): never retried, no fallback; the run ends."""
