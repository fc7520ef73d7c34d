"""Offline start-up: a one-step `baton run` against a `baton validate` of the same file.

Both are whole processes of the installed CLI (interpreter start, imports, the offline AWS
brought up, the run, exit), timed from launch to exit, rounds interleaved. The workflow is one
step of the shipped `log` agent. Target (issue 10): the run costs at most 4x the validation
(median of the rounds).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Result, report, spread

ROUNDS = 5
WORKFLOW = "id: one-step\nname: One step\nagents: [log]\n"


def _timed(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("baton")), *args],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main(rounds: int = ROUNDS) -> bool:
    times: dict[str, list[float]] = {"validate": [], "run": []}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "one-step.yaml"
        path.write_text(WORKFLOW)
        for _ in range(rounds):
            for command in times:
                times[command].append(_timed(command, str(path)))
    for command, measured in times.items():
        print(
            f"  baton {command:<8} median {statistics.median(measured):.2f} s, "
            f"min {min(measured):.2f} s"
        )
    ratio = statistics.median(times["run"]) / statistics.median(times["validate"])
    return report(
        "offline start-up (whole processes)",
        [
            Result(
                "one-step run / validate",
                f"{ratio:.2f}×",
                "≤ 4×",
                ratio <= 4,
                f"{rounds} rounds, whole processes; run {spread(times['run'], 1, 's')}; "
                f"validate {spread(times['validate'], 1, 's')}",
            )
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
