"""`baton serve --state DIR` with `baton run --server URL`: a cached result is reused by the
next run, and executions and cache outlive a restart of the server."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.test_serve import ENV, http, start_server

WORKFLOW = "statemachines/competitor-monitoring.yaml"


def run_on(server: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", "run", WORKFLOW, "--server", server["api"], *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=180,
    )


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()  # SIGTERM: saved on the way out, as with Ctrl-C
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def cached_steps(output: str) -> list[str]:
    return [
        line.split()[1]
        for line in output.splitlines()
        if line.strip().startswith("✔") and "from cache" in line
    ]


def test_runs_on_a_server_reuse_its_cache_and_survive_its_restart(tmp_path):
    state = tmp_path / "state"
    process, server = start_server("--state", str(state))
    try:
        assert f"state: {state} (0 items, 0 objects restored)" in server["started"]
        first = run_on(server, "--tenant", "acme")
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"on {server['api']}" in first.stdout and cached_steps(first.stdout) == []
        second = run_on(server, "--tenant", "acme")
        assert second.returncode == 0, second.stderr
        assert cached_steps(second.stdout) == ["scraper-1", "check-price"]
    finally:
        stop(process)

    process, server = start_server("--state", str(state))
    try:
        assert "objects restored" in server["started"] and "(0 items" not in server["started"]
        third = run_on(server, "--tenant", "acme", "--json")
        assert third.returncode == 0, third.stderr
        assert cached_steps(third.stderr) == ["scraper-1", "check-price"]
        status, page = http(server, "GET", "/workflows/competitor-monitoring/executions?limit=10")
        assert status == 200 and len(page["executions"]) == 3
        assert {e["status"] for e in page["executions"]} == {"completed"}
        status, other = http(
            server, "GET", "/workflows/competitor-monitoring/executions", tenant="other"
        )
        assert (status, other["executions"]) == (200, [])
    finally:
        stop(process)


def test_run_on_a_server_refuses_an_unknown_or_changed_workflow_and_an_unreachable_server(
    tmp_path,
):
    changed = tmp_path / "competitor-monitoring.yaml"
    changed.write_text((ROOT / WORKFLOW).read_text().replace("maxRetries: 2", "maxRetries: 1"))
    unknown = tmp_path / "other.yaml"
    unknown.write_text("id: not-deployed\nname: Other\nagents: [log]\n")
    process, server = start_server()
    try:
        cases = {
            str(changed): f"runs another version of workflow competitor-monitoring than {changed}",
            str(unknown): f"workflow not-deployed is not deployed on {server['api']}",
        }
        for path, message in cases.items():
            result = subprocess.run(
                [sys.executable, "-m", "baton.cli", "run", path, "--server", server["api"]],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env=ENV,
                timeout=120,
            )
            assert result.returncode == 2 and message in result.stderr, result.stderr
    finally:
        stop(process)
    gone = run_on(server)
    assert gone.returncode == 2
    assert f"cannot reach {server['api']}" in gone.stderr and "Traceback" not in gone.stderr
