"""State transitions per sequential agent step, counted from the execution history.

Two sequential workflows of 10 and 30 steps run offline; the difference in state transitions
(StateEntered events), divided by the 20 extra steps, is the cost of one step. Targets: 1.0, and at most 2 fixed per execution.
"""

from __future__ import annotations

from typing import Any

from bench.common import Result, registry, report, workflow


def noop(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"data": {event["agent"]: True}, "accuracy": 100, "meta": {"agent": event["agent"]}}


def main() -> bool:
    from baton.local.runtime import LocalRuntime

    reg = registry(30)
    counts = {}
    with LocalRuntime(reg, handlers={a.name: noop for a in reg}) as runtime:
        for steps in (10, 30):
            arn = runtime.start(workflow(reg, steps))
            runtime.wait(arn)
            events = runtime.history(arn)
            assert events[-1]["type"] == "ExecutionSucceeded", events[-1]
            counts[steps] = sum(1 for e in events if e["type"].endswith("StateEntered"))
            print(f"  {steps:>3} steps: {counts[steps]} state transitions")
    per_step = (counts[30] - counts[10]) / 20
    constant = counts[10] - 10 * per_step
    return report(
        "state transitions",
        [
            Result(
                "transitions per sequential step",
                f"{per_step:.2f}",
                "1.0",
                per_step == 1.0,
                "exact count of StateEntered events (10 and 30 steps); not timed",
            ),
            Result(
                "constant per execution",
                f"{constant:.0f}",
                "≤ 2",
                constant <= 2,
                "exact count; not timed",
            ),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
