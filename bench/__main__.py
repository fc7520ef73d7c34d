"""Run every benchmark, write BENCHMARKS.md (figure, target, result, machine); exit 1 when a
target is missed."""

from __future__ import annotations

import datetime
import sys

from bench import (
    agent_runtime,
    cold_start,
    compile_scale,
    deployment,
    parallel,
    per_step,
    scale,
    startup,
    transitions,
)
from bench.common import RECORDED, ROOT, machine

BENCHMARKS = (
    transitions,
    parallel,
    per_step,
    compile_scale,
    agent_runtime,
    startup,
    cold_start,
    deployment,
    scale,
)


def write(path: str = "BENCHMARKS.md") -> None:
    """Every figure of this run, as measured: nothing is copied from an earlier run."""
    today = datetime.date.today().isoformat()
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {today}, on {machine()}.",
        "",
        "Each figure is measured in one run against the baseline it names, its rounds",
        "interleaved so the machine's noise falls on both alike; timed figures are medians, with",
        "minimums, over the rounds listed. A missed target is reported as missed; targets are",
        "never lowered to pass.",
        "",
        "| Benchmark | Figure | Result | Target | Met | How measured |",
        "|---|---|---|---|---|---|",
    ]
    for title, results in RECORDED:
        for r in results:
            met = "yes" if r.ok else "**MISSED**"
            how = r.how.replace("|", "/")
            lines.append(f"| {title} | {r.name} | {r.measured} | {r.target} | {met} | {how} |")
    (ROOT / path).write_text("\n".join(lines) + "\n")


def main() -> int:
    names = set(sys.argv[1:])
    chosen = [m for m in BENCHMARKS if not names or m.__name__.split(".")[-1] in names]
    results = [module.main() for module in chosen]
    if not names:  # a partial run does not overwrite the whole record
        write()
        print("\nBENCHMARKS.md written")
    print("\nall targets met" if all(results) else "\nsome targets missed")
    return 0 if all(results) else 1


raise SystemExit(main())
