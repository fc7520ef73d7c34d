"""Compile time and ASL size for 10, 100 and 1,000 sequential steps.

Targets: 1,000 steps compile in under 0.5 s into under 1 MB (Step Functions' definition limit),
and the time grows linearly (time per step at 1,000 within 2× of the time per step at 100).
Sizes are timed in interleaved rounds; medians are compared.
"""

from __future__ import annotations

import json
import statistics

from bench.common import ROUNDS, Result, interleaved, registry, report, spread, timed, workflow

STEPS = (10, 100, 1000)


def main() -> bool:
    reg = registry(1000)
    workflow(reg, 10)  # warm imports and caches
    samples = interleaved(
        {
            str(steps): (lambda steps=steps: timed(lambda: workflow(reg, steps))[0])
            for steps in STEPS
        }
    )
    timings = {steps: statistics.median(samples[str(steps)]) for steps in STEPS}
    sizes = {
        steps: len(json.dumps(workflow(reg, steps).asl, separators=(",", ":")).encode())
        for steps in STEPS
    }
    for steps in STEPS:
        print(
            f"  {steps:>5} steps: compile {spread(samples[str(steps)])}, "
            f"ASL {sizes[steps] / 1024:8.1f} KiB, {sizes[steps] / steps:6.0f} B/step"
        )
    per_step_100 = timings[100] / 100
    per_step_1000 = timings[1000] / 1000
    growth = per_step_1000 / per_step_100
    size_1000 = sizes[1000]
    how = f"{ROUNDS} rounds; 1,000 steps {spread(samples['1000'])}; 100 steps {spread(samples['100'])}"
    return report(
        "compile scale",
        [
            Result(
                "compile 1,000 steps", f"{timings[1000]:.3f} s", "< 0.5 s", timings[1000] < 0.5, how
            ),
            Result(
                "ASL size 1,000 steps", f"{size_1000 / 1e6:.3f} MB", "< 1 MB", size_1000 < 1_000_000
            ),
            Result("time/step 1,000 vs 100", f"{growth:.2f}×", "≤ 2× (linear)", growth <= 2.0, how),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
