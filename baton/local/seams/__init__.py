"""The seams that let moto run Baton's state machines offline as AWS runs them.

Each change to moto is an `Adaptation`: a name, the AWS behaviour it restores (or, marked
"(cost)", the cost of moto's it removes), the test that shows it, and the attributes it
replaces or wraps. They live by subject:

- jsonata_evaluation: JSONata evaluated once, variables as bindings, AWS's functions
  (aws_jsonata), JavaScript's arithmetic, the definition's strings read as JSON;
- error_names: error names and causes as Step Functions reports them;
- unusable_values: evaluated values a state cannot use (Items, Wait times) failed as AWS does;
- context_object: `$states.context` as AWS fills it;
- lambda_invocations: Lambda invocations answered by the fake Lambda (baton.local.fake_lambda);
- waits: backoff and Wait-state waits recorded and skipped;
- executions: stops, lookups, ends and descriptions of executions;
- express_runs: Express ARNs and the calls AWS refuses for them;
- dynamodb: atomic writes, and reads and transactions at DynamoDB's cost;
- update_validation: update expressions validated at the cost of the work done;
- moto_costs: work moto repeats per request, event or model object;
- request_handling: the request object each request to moto becomes.

`patched()` is the one switch: it applies them all, yields the `Seams` they share with the
offline runtime, and restores moto as it was. Nothing outlives the switch but a cache of
parsed JSONata programs (jsonata_evaluation), a pure function of each expression's text, and
a Task's kept thread still busy when the switch ends (it ends when its task returns).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from baton.local.fake_lambda import Dispatcher
from baton.local.kept_threads import KeptThreads
from baton.local.seams import (
    context_object,
    dynamodb,
    error_names,
    executions,
    express_runs,
    jsonata_evaluation,
    lambda_invocations,
    moto_costs,
    request_handling,
    unusable_values,
    update_validation,
    waits,
)
from baton.local.seams.adaptation import INHERITED, Adaptation, current
from baton.local.seams.executions import Ends, ExecutionIndex
from baton.local.seams.jsonata_evaluation import evaluate
from baton.local.seams.waits import Wait, Waits

__all__ = ["WITHOUT_SEAMS", "Adaptation", "Seams", "Wait", "evaluate", "patched"]

WITHOUT_SEAMS = "BATON_WITHOUT_SEAMS"
"""Environment variable: adaptations to leave out (names, comma-separated), to see what moto
does without them."""


@dataclass
class Seams:
    """What one switch's adaptations share with the offline runtime."""

    waits: Waits
    ends: Ends = field(default_factory=Ends)
    executions: ExecutionIndex = field(default_factory=ExecutionIndex)
    transaction_copies: dynamodb.TransactionCopies = field(
        default_factory=dynamodb.TransactionCopies
    )
    partition_queries: dynamodb.PartitionQueries = field(default_factory=dynamodb.PartitionQueries)
    dynamodb_writing: threading.RLock = field(default_factory=threading.RLock)
    task_threads: KeptThreads = field(default_factory=lambda: KeptThreads("states:task"))
    adaptations: tuple[Adaptation, ...] = ()
    left_out: frozenset[str] = frozenset()


def all_adaptations(seams: Seams, dispatcher: Dispatcher) -> list[Adaptation]:
    """Every adaptation, in the order they are applied (a later one wraps an earlier one's
    change of the same attribute)."""
    return [
        *jsonata_evaluation.adaptations(),
        *error_names.adaptations(),
        *unusable_values.adaptations(),
        *context_object.adaptations(),
        *lambda_invocations.adaptations(dispatcher),
        *waits.adaptations(seams.waits),
        *executions.adaptations(seams.ends, seams.executions),
        *express_runs.adaptations(),
        *dynamodb.adaptations(
            seams.transaction_copies, seams.partition_queries, seams.dynamodb_writing
        ),
        *update_validation.adaptations(),
        *moto_costs.adaptations(seams.task_threads),
        *request_handling.adaptations(),
    ]


def _left_out(names: list[str]) -> frozenset[str]:
    asked = {name.strip() for name in os.environ.get(WITHOUT_SEAMS, "").split(",")} - {""}
    unknown = sorted(asked - set(names))
    if unknown:
        raise ValueError(
            f"{WITHOUT_SEAMS} names no adaptation: {', '.join(unknown)} "
            f"(there are: {', '.join(names)})"
        )
    return frozenset(asked)


_held = threading.Lock()
"""Held while the seams are in: moto's classes are the process's, so one switch at a time."""


@contextmanager
def patched(
    dispatcher: Dispatcher, *, real_waits: bool, on_wait: Callable[[Wait], None] | None
) -> Iterator[Seams]:
    """Apply every adaptation for the duration of the block; restore moto afterwards."""
    seams = Seams(waits=Waits(real=real_waits, listener=on_wait))
    if not _held.acquire(blocking=False):
        raise RuntimeError("another offline runtime is already running in this process")
    saved: list[tuple[Any, str, Any]] = []
    try:
        adaptations = all_adaptations(seams, dispatcher)
        seams.adaptations = tuple(adaptations)
        seams.left_out = _left_out([adaptation.name for adaptation in adaptations])
        for adaptation in adaptations:
            if adaptation.name in seams.left_out:
                continue
            for target, name, change in adaptation.replacements:
                saved.append((target, name, current(target, name)))
                setattr(target, name, change(getattr(target, name)))
        yield seams
    finally:
        for target, name, value in reversed(saved):
            if value is INHERITED:
                delattr(target, name)
            else:
                setattr(target, name, value)
        seams.task_threads.close()
        _held.release()
