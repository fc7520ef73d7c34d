"""Offline start-up: a one-step `baton run` against a `baton validate` of the same file.

Both are whole processes of the installed CLI (interpreter start, imports, the offline AWS
brought up, the run, exit), timed from launch to exit, rounds interleaved. The workflow is one
step of the shipped `log` agent. Target (issue 10): the run costs at most 4x the validation
(median of the rounds).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import ROUNDS, interleaved, process_seconds, ratio_result, report, spread

WORKFLOW = "id: one-step\nname: One step\nagents: [log]\n"


def _baton(*args: str) -> float:
    return process_seconds([str(Path(sys.executable).with_name("baton")), *args], quiet_errors=True)


def main(rounds: int = ROUNDS) -> bool:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "one-step.yaml"
        path.write_text(WORKFLOW)
        times = interleaved(
            {command: (lambda c=command: _baton(c, str(path))) for command in ("validate", "run")},
            rounds,
        )
    for command, measured in times.items():
        print(f"  baton {command:<8} {spread(measured, 1, 's')}")
    ratio = statistics.median(times["run"]) / statistics.median(times["validate"])
    return report(
        "offline start-up (whole processes)",
        [
            ratio_result(
                "one-step run / validate",
                ratio,
                4,
                f"{rounds} rounds, whole processes; run {spread(times['run'], 1, 's')}; "
                f"validate {spread(times['validate'], 1, 's')}",
            )
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
