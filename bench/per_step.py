"""Cost of one step offline, with everything a user's run goes through.

A 20-step workflow of agents wrapped by the agent runtime (handoffs, checkpoints, statistics),
timed three ways in interleaved rounds, each in the same offline runtime after an untimed run:
- lifecycle: started through the lifecycle service and settled (records, events, archive);
- flow: the same state machine run directly, without the lifecycle;
- bare loop: the 20 agent functions called one after another in Python (the floor).
Target (issue 10): at most 12 ms per step through the lifecycle (median of the rounds).

The runtime is set up as `baton run` and `make run` set it up: Baton's events are published to
the bus, and no test queue reads them back (`observe_events=False`; a test observing them pays
for the queue's deliveries and receives, about a tenth more per step).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench.common import ROUNDS, Result, interleaved, registry, report, spread, workflow

STEPS = 20


def _agent() -> Any:
    from baton_agent import AgentResult, agent

    @agent
    def step(data: dict[str, Any], context: Any) -> AgentResult:
        return AgentResult(data={context.agent: True})

    return step


def main(rounds: int = ROUNDS) -> bool:
    from baton.local.runtime import LocalRuntime

    reg = registry(STEPS)
    compiled = workflow(reg, STEPS)
    handler = _agent()
    with LocalRuntime(
        reg, handlers={a.name: handler for a in reg}, observe_events=False
    ) as runtime:
        lifecycle = runtime.services.lifecycle

        def through_lifecycle() -> float:
            started = time.perf_counter()
            record = runtime.execute(compiled, {"n": 1})
            assert record["status"] == "completed", record.get("error")
            return (time.perf_counter() - started) / STEPS

        def flow() -> float:
            started = time.perf_counter()
            assert runtime.run(compiled, {"n": 1}).status == "completed"
            return (time.perf_counter() - started) / STEPS

        def bare_loop() -> float:
            started = time.perf_counter()
            data: dict[str, Any] = {"n": 1}
            for position, spec in enumerate(reg):
                event = {"agent": spec.name, "position": position, "data": data, "context": {}}
                data = {**data, **handler(event, None)["data"]}
            return (time.perf_counter() - started) / STEPS

        for measure in (through_lifecycle, flow, bare_loop):
            measure()  # deployment and first use: not the steady state
        assert lifecycle is runtime.services.lifecycle
        samples = interleaved(
            {"lifecycle": through_lifecycle, "flow": flow, "bare loop": bare_loop}, rounds
        )
    median = {label: statistics.median(values) for label, values in samples.items()}
    for label, values in samples.items():
        print(f"  {label:<10} per step: {spread(values)}")
    ms = median["lifecycle"] * 1000
    how = (
        f"{rounds} rounds of a {STEPS}-step flow, set up as `baton run` (events published, no "
        f"test queue reading them); lifecycle {spread(samples['lifecycle'])}; "
        f"without lifecycle {spread(samples['flow'])}; bare loop {spread(samples['bare loop'])}"
    )
    return report(
        "per step offline (lifecycle and agent runtime)",
        [
            Result("per step through the lifecycle", f"{ms:.1f} ms", "≤ 12 ms", ms <= 12, how),
            Result(
                "lifecycle / without lifecycle",
                f"{median['lifecycle'] / median['flow']:.2f}×",
                "(context)",
                True,
                "the lifecycle's share per step",
            ),
            Result(
                "lifecycle / bare loop",
                f"{median['lifecycle'] / median['bare loop']:.0f}×",
                "(context)",
                True,
                "what the offline AWS costs over calling the functions",
            ),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
