"""Walk a compiled definition as AWS would run it: its scopes, and every Lambda invocation with
the Task timeout that waits for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def scopes(states_or_asl: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every scope's states: the machine's, each Map's item processor's, each Parallel's
    branches'."""
    states = states_or_asl.get("States", states_or_asl)
    yield states
    for state in states.values():
        if state.get("Type") == "Map":
            yield from scopes(state["ItemProcessor"])
        for branch in state.get("Branches", ()):
            yield from scopes(branch)


def invocations(asl: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(function, Task timeout) of every Lambda invocation: a Task's own, or for a Task that
    group members share, each member's function (from its item) and its alternative's."""
    for scope in scopes(asl):
        for state in scope.values():
            if state.get("Resource") == LAMBDA_INVOKE:
                function = state["Arguments"]["FunctionName"]
                if not function.startswith("{%"):
                    yield function, state["TimeoutSeconds"]
            items = state.get("Items") if isinstance(state.get("Items"), list) else ()
            for item in (i for i in items if "function" in i):
                inner = state["ItemProcessor"]["States"]
                yield item["function"], inner[state["ItemProcessor"]["StartAt"]]["TimeoutSeconds"]
                if "alternative" in item:
                    [alternative] = [
                        s
                        for s in inner.values()
                        if "alternative.function" in str(s.get("Arguments"))
                    ]
                    yield item["alternative"]["function"], alternative["TimeoutSeconds"]
