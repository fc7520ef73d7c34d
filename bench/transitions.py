"""State transitions per sequential agent step and per group member, counted from histories.

Two sequential workflows of 10 and 30 steps run offline; the difference in state transitions
(StateEntered events), divided by the 20 extra steps, is the cost of one step. Then a step and
a parallel group of 5, and of 15, members: the difference divided by 10 is the cost of one
member, for members that retry and fall back alike (one Task in a Map) and for members that do
not (one skips: a Parallel state, a branch each). Targets: 1.0 each, at most 2 fixed per
execution.
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
    members: dict[str, dict[int, int]] = {"alike": {}, "differing": {}}
    with LocalRuntime(reg, handlers={a.name: noop for a in reg}) as runtime:

        def transitions(compiled: Any) -> int:
            arn = runtime.start(compiled)
            runtime.wait(arn)
            events = runtime.history(arn)
            assert events[-1]["type"] == "ExecutionSucceeded", events[-1]
            return sum(1 for e in events if e["type"].endswith("StateEntered"))

        for steps in (10, 30):
            counts[steps] = transitions(workflow(reg, steps))
            print(f"  {steps:>3} steps: {counts[steps]} state transitions")
        names = [a.name for a in reg]
        for shape, group in members.items():
            for size in (5, 15):
                fallbacks = {names[1]: {"strategy": "skip"}} if shape == "differing" else {}
                group[size] = transitions(
                    workflow(
                        reg,
                        size + 1,
                        id=f"group-{shape}-{size}",
                        config={"parallelGroups": [names[1 : size + 1]]},
                        fallbacks=fallbacks,
                    )
                )
                print(f"  a step and {size} members {shape}: {group[size]} state transitions")
    per_step = (counts[30] - counts[10]) / 20
    constant = counts[10] - 10 * per_step
    per_member = {shape: (group[15] - group[5]) / 10 for shape, group in members.items()}
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
            *(
                Result(
                    f"transitions per group member ({shape})",
                    f"{value:.2f}",
                    "1.0",
                    value == 1.0,
                    "exact count of StateEntered events (groups of 5 and 15); not timed",
                )
                for shape, value in per_member.items()
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
