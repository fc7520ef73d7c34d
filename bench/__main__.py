"""Run every benchmark; exit 1 when a target is missed."""

from __future__ import annotations

from bench import agent_runtime, compile_scale, deployment, parallel, scale, transitions


def main() -> int:
    results = [
        module.main()
        for module in (transitions, parallel, compile_scale, agent_runtime, deployment, scale)
    ]
    print("\nall targets met" if all(results) else "\nsome targets missed")
    return 0 if all(results) else 1


raise SystemExit(main())
