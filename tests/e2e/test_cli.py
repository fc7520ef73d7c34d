"""The `baton` command end to end, as a user runs it (a subprocess per command)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, STATEMACHINES

ENV = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


def baton(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )


def test_validate_ok_per_file():
    result = baton("validate", *map(str, sorted(STATEMACHINES.glob("*.*"))))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 7
    assert all(line.endswith(": ok") or "ok (registry, 13 agents)" in line for line in lines)


def test_validate_reports_every_error_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nname: Bad\nagents: [login, nobody]\nconfig:\n  maxRetries: 20\n")
    good = STATEMACHINES / "price-change-alert.json"
    result = baton("validate", str(good), str(bad))
    assert result.returncode == 1
    assert f"{good}: ok" in result.stdout
    assert (
        f"{bad}:3: agents[1]: unknown agent 'nobody': no such agent in the registry"
        in result.stderr
    )
    assert (
        f"{bad}:5: config.maxRetries: maxRetries must be between 0 and 10, got 20" in result.stderr
    )


def test_compile_prints_the_committed_asl():
    result = baton("compile", "statemachines/price-change-alert.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (STATEMACHINES / "asl" / "price-change-alert.asl.json").read_text()


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph(fmt):
    result = baton("graph", "statemachines/competitor-monitoring.yaml", "--format", fmt)
    assert result.returncode == 0, result.stderr
    for name in ("scraper-backup (instead of scraper-2)", "If price dropped over 10%", "Completed"):
        assert name.replace("%", "%") in result.stdout
    assert result.stdout.startswith("flowchart TD" if fmt == "mermaid" else "digraph workflow {")


def test_graph_rejects_unknown_format():
    result = baton("graph", "statemachines/price-change-alert.json", "--format", "svg")
    assert result.returncode == 2
    assert "--format must be mermaid or dot" in result.stderr


def test_schema_is_json_schema_of_the_format():
    result = baton("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "Baton workflow"
    assert {"id", "name", "agents", "config", "conditions", "fallbacks", "cache"} <= set(
        schema["properties"]
    )


def test_run_json_completed_exit_0():
    result = baton(
        "run",
        "statemachines/price-change-alert.json",
        "--input",
        '{"lastKnownPrice": 84.99}',
        "--json",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "completed"
    assert [h["agent"] for h in record["handoffs"]] == ["check-price", "log"]
    assert "check-price" in result.stderr  # live progress goes to stderr with --json


def test_run_json_is_the_stored_record_with_every_failed_attempt_counted():
    """The CLI prints the record the lifecycle stored (one model, one history reader): its
    failed attempts are those the live progress showed, its waits those it announced."""
    result = baton("run", "statemachines/competitor-monitoring.yaml", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    failed_lines = [line for line in result.stderr.splitlines() if "✖" in line]
    wait_lines = [line for line in result.stderr.splitlines() if "⏳" in line]
    assert record["metrics"]["failedHandoffs"] == len(failed_lines) > 0
    assert len(record.pop("offlineWaits")) == len(wait_lines) > 0
    assert record["finishedRun"] == record["run"]  # as stored, internal fields too
    skipped = [h for h in record["handoffs"] if h.get("skipped")]
    assert skipped and skipped[0]["data"]["skipped"] is True


def test_run_shows_progress_and_exits_1_on_failure(tmp_path):
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        "id: failing\nname: Failing\nagents: [navigate]\ninitialData: {targetUrl: 'ftp://x.example/'}\n"
    )
    result = baton("run", str(failing))
    assert result.returncode == 1
    assert "✖ navigate" in result.stdout
    assert "AgentInputError: 'ftp://x.example/' is not an http(s) URL" in result.stdout
    assert "FAILED" in result.stdout


def test_run_input_from_file_and_bad_input(tmp_path):
    data = tmp_path / "input.json"
    data.write_text('{"lastKnownPrice": 84.99}')
    assert (
        baton("run", "statemachines/price-change-alert.json", "--input", f"@{data}").returncode == 0
    )
    bad = baton("run", "statemachines/price-change-alert.json", "--input", "{nope")
    assert bad.returncode == 2
    assert "--input: invalid JSON" in bad.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tenant", ""], "error: --tenant: '' is not a tenant name"),
        (["--tenant", "acme#corp"], "error: --tenant: 'acme#corp' is not a tenant name"),
        (["--input", '{"x": NaN}'], "error: input.x: is nan: JSON numbers are finite"),
        (["--input", '{"x": [Infinity]}'], "error: input.x[0]: is inf"),
    ],
)
def test_run_refuses_a_bad_tenant_or_input_in_one_line_with_exit_2(options, message):
    result = baton("run", "statemachines/price-change-alert.json", *options)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_a_test_run_that_collects_nothing_fails(tmp_path):
    """`make test` must not pass vacuously: pytest exits 5 on no tests, and CI stops on it."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 5
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "make test" in ci
    assert "|| true" not in (ROOT / "Makefile").read_text()


def test_the_committed_openapi_document_is_generated_from_the_routes():
    result = baton("openapi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document["paths"]) == {
        "/workflows/{workflow_id}/executions",
        "/executions/{execution_id}",
        "/executions/{execution_id}/cancel",
        "/executions/{execution_id}/pause",
        "/executions/{execution_id}/resume",
        "/workflows",
        "/workflows/{workflow_id}",
        "/agents",
    }
    start = document["paths"]["/workflows/{workflow_id}/executions"]["post"]
    assert set(start["responses"]) == {"201", "400", "401", "404", "409", "413"}
    assert any(p["name"].lower() == "idempotency-key" for p in start["parameters"])
    # the execution routes answer the one record model, and every schema reference resolves
    record = {"$ref": "#/components/schemas/ExecutionRecord"}
    get = document["paths"]["/executions/{execution_id}"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == record
    schemas = document["components"]["schemas"]
    assert {"executionId", "status", "handoffs", "metrics"} <= set(
        schemas["ExecutionRecord"]["properties"]
    )
    references = set(re.findall(r'"#/components/schemas/(\w+)"', result.stdout))
    assert references and references <= set(schemas)
    assert (ROOT / "openapi.json").read_text() == result.stdout, "run `make openapi`"


def test_token_is_refused_for_a_tenant_name_with_a_key_separator():
    result = baton("token", "acme#corp")
    assert result.returncode == 2
    assert "lowercase letters, digits or '-'" in result.stderr


def test_validate_refuses_a_cycle_of_triggers_through_several_files(tmp_path):
    ping = tmp_path / "ping.yaml"
    pong = tmp_path / "pong.yaml"
    solo = tmp_path / "solo.yaml"
    ping.write_text(
        "id: ping\nname: Ping\nagents: [log]\ntriggers: [{'on': completed, workflow: pong}]\n"
    )
    pong.write_text(
        "id: pong\nname: Pong\nagents: [log]\ntriggers: [{'on': failed, workflow: ping}]\n"
    )
    solo.write_text(
        "id: solo\nname: Solo\nagents: [log]\ntriggers: [{'on': completed, workflow: solo}]\n"
    )
    result = baton("validate", str(ping), str(pong), str(solo))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "triggers itself" in line]
    assert len(errors) == 3, result.stderr
    assert any("ping triggers itself (ping → pong → ping)" in line for line in errors)
    assert any("solo triggers itself (solo → solo)" in line for line in errors)
    assert all(": triggers:" in line for line in errors)  # file and field named
    fine = tmp_path / "fine.yaml"
    fine.write_text(
        "id: fine\nname: Fine\nagents: [log]\ntriggers: [{'on': completed, workflow: solo}]\n"
    )
    assert baton("validate", str(fine)).returncode == 0


BROKEN_REGISTRY = """\
agents:
  - id: 1
    name: a
    handler: nowhere.module.handler
  - id: 2
    name: b
    handler: agents.login.handler.nothing
  - id: 3
    name: c
    handler: agents.login.handler.annotations
"""


def test_handlers_that_do_not_load_are_found_by_validate_and_stop_a_run_with_exit_2(tmp_path):
    registry = tmp_path / "agents.yaml"
    registry.write_text(BROKEN_REGISTRY)
    workflow = tmp_path / "w.yaml"
    workflow.write_text("id: w\nname: W\nagents: [a, b, c]\n")
    expected = [
        f"{registry}: agents[0].handler: agent a: cannot import module 'nowhere.module' of "
        "handler nowhere.module.handler: ModuleNotFoundError: No module named 'nowhere'",
        f"{registry}: agents[1].handler: agent b: module 'agents.login.handler' has no "
        "'nothing' (handler agents.login.handler.nothing)",
        f"{registry}: agents[2].handler: agent c: handler agents.login.handler.annotations is not "
        "callable",
    ]
    checked = baton("validate", str(workflow), "--registry", str(registry))
    assert checked.returncode == 1
    assert checked.stderr.strip().splitlines() == expected
    run = baton("run", str(workflow), "--registry", str(registry))
    assert run.returncode == 2  # set-up problems: not a workflow that failed (1)
    assert run.stderr.strip().splitlines() == [f"error: {line}" for line in expected]
    assert "Traceback" not in run.stderr + run.stdout


def test_a_bad_registry_is_a_setup_error_with_exit_2(tmp_path):
    registry = tmp_path / "agents.yaml"
    registry.write_text("agents: [1]\n")
    result = baton("run", "statemachines/price-change-alert.json", "--registry", str(registry))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {registry}:1: agents[0]: Input should be a valid dictionary or instance of "
        "AgentSpec"
    ]


def test_compile_report_gives_the_history_budget_of_one_run():
    result = baton("compile", "statemachines/competitor-monitoring.yaml", "--report", "--json")
    assert result.returncode == 0, result.stderr
    budget = json.loads(result.stdout)["historyBudget"]
    assert budget["limit"] == 25_000 and budget["fits"] is True
    assert (
        budget["failureFree"]["events"]
        < budget["worst"]["events"]
        < budget["withLambdaFaults"]["events"]
    )
    human = baton("compile", "statemachines/competitor-monitoring.yaml", "--report")
    rows = {line.split("  ")[0]: line.split()[-2:] for line in human.stdout.splitlines()[2:]}
    worst = rows["worst case (every retry spent, every fallback taken)"]
    assert worst == [str(budget["worst"]["events"]), str(budget["worst"]["transitions"])]
    free = rows["without failures"]
    assert free == [str(budget["failureFree"]["events"]), str(budget["failureFree"]["transitions"])]


def test_cost_prices_one_execution_standard_against_express():
    result = baton("cost", "statemachines/competitor-monitoring.yaml", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    budget = json.loads(
        baton("compile", "statemachines/competitor-monitoring.yaml", "--report", "--json").stdout
    )["historyBudget"]
    assert report["usage"]["transitions"] == budget["failureFree"]["transitions"]
    [transitions] = report["standard"]["lines"]
    assert transitions["dollars"] == pytest.approx(transitions["quantity"] * 0.025 / 1000)
    shared = sum(line["dollars"] for line in report["shared"])
    assert report["standard"]["perExecution"] == pytest.approx(shared + transitions["dollars"])
    assert report["express"]["fits"] is False  # its worst case runs past 5 minutes
    human = baton("cost", "statemachines/competitor-monitoring.yaml", "--agent-seconds", "2")
    assert "each agent invocation assumed to run 2 s" in human.stdout
    total = next(line for line in human.stdout.splitlines() if line.startswith("total on Standard"))
    per_execution = float(total.split()[3].lstrip("$"))
    assert per_execution > report["standard"]["perExecution"]  # longer agents cost more


def test_cost_measure_runs_it_offline_and_every_count_agrees():
    result = baton("cost", "statemachines/sequential-data-extraction.json", "--measure")
    assert result.returncode == 0, result.stderr
    assert "Checked against an offline run (completed, 0 failed attempts):" in result.stdout
    assert re.search(r"all \d+ counts agree", result.stdout)
    assert "the agents' own requests (not in the model): dynamodb.GetItem ×2" in result.stdout


def test_cost_refuses_items_of_an_agent_that_is_no_fan_out():
    result = baton("cost", "statemachines/catalog-sweep.yaml", "--items", "aggregator=3")
    assert result.returncode == 2
    assert "--items aggregator=3: 'aggregator' is not a fan-out of this workflow" in result.stderr
    result = baton("cost", "statemachines/catalog-sweep.yaml", "--items", "site-scraper=x")
    assert result.returncode == 2
    assert "give a whole number of items" in result.stderr
    counted = json.loads(
        baton(
            "cost", "statemachines/catalog-sweep.yaml", "--items", "site-scraper=7", "--json"
        ).stdout
    )
    assert counted["usage"]["agentInvocations"] == {"site-scraper": 7, "aggregator": 1}
