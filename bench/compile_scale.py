"""Compile time and ASL size for 10, 100 and 1,000 sequential steps.

Targets: 1,000 steps compile in under 0.5 s into under 1 MB (Step Functions' definition limit),
and the time grows linearly (time per step at 1,000 within 2× of the time per step at 100).
"""

from __future__ import annotations

import json

from bench.common import Result, registry, report, timed, workflow


def main() -> bool:
    reg = registry(1000)
    workflow(reg, 10)  # warm imports and caches
    rows = []
    timings = {}
    for steps in (10, 100, 1000):
        best = min(timed(lambda steps=steps: workflow(reg, steps))[0] for _ in range(3))
        size = len(json.dumps(workflow(reg, steps).asl, separators=(",", ":")).encode())
        timings[steps] = best
        rows.append((steps, best, size))
        print(
            f"  {steps:>5} steps: compile {best * 1000:8.1f} ms, ASL {size / 1024:8.1f} KiB, {size / steps:6.0f} B/step"
        )
    per_step_100 = timings[100] / 100
    per_step_1000 = timings[1000] / 1000
    growth = per_step_1000 / per_step_100
    size_1000 = rows[-1][2]
    return report(
        "compile scale",
        [
            Result("compile 1,000 steps", f"{timings[1000]:.3f} s", "< 0.5 s", timings[1000] < 0.5),
            Result(
                "ASL size 1,000 steps", f"{size_1000 / 1e6:.3f} MB", "< 1 MB", size_1000 < 1_000_000
            ),
            Result("time/step 1,000 vs 100", f"{growth:.2f}×", "≤ 2× (linear)", growth <= 2.0),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
