"""The agent SDK reference (docs/agent-sdk.md) is generated from the docstrings and kept in
sync; every public part of the SDK is documented, and each error's retry behaviour is the one
the compiled Retry blocks give it."""

from __future__ import annotations

import dataclasses

from baton.compiler.retry import retriers
from baton.definition.resolved import RetryPolicy
from baton.sdk_docs import DOCS_FILE, attribute_docs, error_behaviour, render
from baton_agent import errors, runtime, testing
from tests.conftest import ROOT


def test_the_committed_reference_is_what_baton_docs_generates():
    committed = (ROOT / DOCS_FILE).read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/agent-sdk.md is stale: run `baton docs --output docs/agent-sdk.md`"
    )


def test_every_field_of_the_public_classes_has_a_docstring():
    for cls in (runtime.AgentResult, runtime.AgentContext, testing.AgentCall):
        documented = attribute_docs(cls)
        missing = [f.name for f in dataclasses.fields(cls) if not documented.get(f.name)]
        assert not missing, f"{cls.__name__}: {missing}"
    for name, member in vars(runtime.AgentContext).items():
        if isinstance(member, property) and not name.startswith("_"):
            assert member.__doc__, f"AgentContext.{name}"


def test_each_errors_retry_behaviour_is_the_compiled_retry_blocks():
    """The page says "never" exactly for the names a compiled Retry block gives MaxAttempts 0."""
    policy = RetryPolicy(
        max_attempts=3, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=None, jitter=False
    )
    block = retriers(policy, express=True)
    never = {name for r in block if r.get("MaxAttempts") == 0 for name in r["ErrorEquals"]}
    for error in (
        errors.AgentInputError,
        errors.SecretLeakError,
        errors.AgentError,
        errors.BudgetSpentError,
        errors.AccuracyBelowThreshold,
        errors.ExecutionStoppedError,
    ):
        reported, retried, _ = error_behaviour(error)
        assert (retried == "never") == (reported in never), error.__name__
