"""State names that read well in the Step Functions console, unique and at most 80 characters."""

from __future__ import annotations

import re

MAX_NAME = 80
EXECUTIONS_TABLE_KEY = "ExecutionsTable"
EXECUTIONS_TABLE_PLACEHOLDER = "${" + EXECUTIONS_TABLE_KEY + "}"
"""Filled, like the function placeholders, by CDK or by the offline runtime."""
START = "Start"
ROUTER = "Resume router"
COMPLETED = "Completed"
RECOVERY_BACKOFF = "Recovery backoff"
RUN_STOPPED = "Run stopped"
EXPRESS = ("Run", "Report success", "Report failure", "Failed")
"""The states around an Express workflow (express.NAMES): no step may take these names."""


def function_placeholder(agent: str) -> str:
    """`${AgentFn_check_price}`: filled by CDK definition substitutions or the local runtime."""
    return "${AgentFn_" + re.sub(r"\W", "_", agent) + "}"


def placeholder_key(agent: str) -> str:
    return function_placeholder(agent)[2:-1]


class NameAllocator:
    """Hands out unique state names, shortening long ones and numbering repeats."""

    def __init__(self) -> None:
        self.used: set[str] = {START, ROUTER, COMPLETED, RECOVERY_BACKOFF, RUN_STOPPED, *EXPRESS}

    def take(self, wanted: str) -> str:
        base = wanted if len(wanted) <= MAX_NAME else wanted[: MAX_NAME - 1] + "…"
        name, n = base, 2
        while name in self.used:
            suffix = f" #{n}"
            name = base[: MAX_NAME - len(suffix)] + suffix
            n += 1
        self.used.add(name)
        return name


def group_name(agents: tuple[str, ...]) -> str:
    return "Parallel: " + " + ".join(agents)


def condition_name(label: str) -> str:
    return f"If {label}"


def skip_name(agent: str) -> str:
    return f"Skip {agent}"


def alternative_name(alternative: str, agent: str) -> str:
    return f"{alternative} (instead of {agent})"


def member_task_name(agents: tuple[str, ...]) -> str:
    return "Run " + " + ".join(agents)


def fan_out_name(agent: str, items: str) -> str:
    return f"{agent} for each of {items}"


def item_failed_name(agent: str) -> str:
    return f"{agent}: item failed"


def tolerance_name(agent: str) -> str:
    return f"{agent}: failures tolerated?"


def too_many_failed_name(agent: str) -> str:
    return f"{agent}: too many items failed"
