"""Writing your own agent, as a new user would: `baton new agent`, `baton new workflow`, then
validate, run and test them, in a fresh project folder that extends Baton's registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_cli import ENV, baton

PYTEST_ENV = {k: v for k, v in ENV.items() if not k.startswith(("PYTEST_", "COV_"))}


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=project,
        env=PYTEST_ENV,
        timeout=300,
    )


def test_a_scaffolded_agent_and_workflow_validate_run_and_pass_their_tests(tmp_path):
    made = baton("new", "agent", "word-count", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "functions/word_count/handler.py").is_file()
    registry = (tmp_path / "statemachines/agents.yaml").read_text()
    assert registry.startswith("# This project's agents.") and "extends: baton" in registry
    assert "handler: word_count.handler.handler" in registry
    flow = baton("new", "workflow", "count-words", cwd=tmp_path)
    assert flow.returncode == 0, flow.stderr
    assert "agents: [word-count]" in (tmp_path / "statemachines/count-words.yaml").read_text()

    checked = baton("validate", "statemachines/count-words.yaml", cwd=tmp_path)
    assert (checked.returncode, checked.stdout.strip()) == (0, "statemachines/count-words.yaml: ok")
    run = baton("run", "statemachines/count-words.yaml", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["status"] == "completed"
    assert record["output"]["wordCount"] == {"words": 10}

    tested = pytest_in(tmp_path, "tests")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3 passed" in tested.stdout


def test_a_shipped_agent_is_usable_from_the_project_and_the_newest_agent_is_the_default(tmp_path):
    assert baton("new", "agent", "first", cwd=tmp_path).returncode == 0
    assert baton("new", "agent", "second", cwd=tmp_path).returncode == 0
    both = baton("new", "workflow", "pair", "--agent", "first", "--agent", "log", cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    newest = baton("new", "workflow", "solo", cwd=tmp_path)
    assert newest.returncode == 0, newest.stderr
    assert "agents: [second]" in (tmp_path / "statemachines/solo.yaml").read_text()
    ids = [
        line
        for line in (tmp_path / "statemachines/agents.yaml").read_text().splitlines()
        if "- id:" in line
    ]
    assert ids == ["  - id: 14", "  - id: 15"]
    run = baton("run", "statemachines/pair.yaml", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [h["agent"] for h in json.loads(run.stdout)["handoffs"]] == ["first", "log"]


def test_scaffolding_refuses_what_is_taken_or_malformed_and_overwrites_nothing(tmp_path):
    assert baton("new", "agent", "greeter", cwd=tmp_path).returncode == 0
    registry = (tmp_path / "statemachines/agents.yaml").read_text()
    cases = {
        ("new", "agent", "greeter"): f"error: {Path('functions/greeter')} already exists; "
        "choose another name or remove it",
        ("new", "agent", "Bad_Name"): "error: agent name 'Bad_Name': use lowercase words joined "
        "by hyphens, at most 40 characters (price-check)",
        ("new", "agent", "login"): "error: the registry already has an agent named 'login'",
        ("new", "agent", "json"): "error: a Python module named 'json' already exists; choose "
        "another agent name",
        ("new", "workflow", "w", "--agent", "nobody"): "error: no agent named 'nobody' in the "
        "registry; add one with `baton new agent NAME`",
    }
    for args, message in cases.items():
        result = baton(*args, cwd=tmp_path)
        assert (result.returncode, result.stderr.strip()) == (2, message), args
    assert (tmp_path / "statemachines/agents.yaml").read_text() == registry
    assert not (tmp_path / "statemachines/w.yaml").exists()


def test_registries_given_several_times_compose(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("agents:\n  - id: 500\n    name: echo-back\n    handler: greeter_x.handler\n")
    workflow = tmp_path / "w.yaml"
    workflow.write_text("id: w\nname: W\nagents: [log, echo-back]\n")
    alone = baton("validate", str(workflow), "--registry", str(mine))
    assert (
        alone.returncode == 1
        and "unknown agent 'log': no such agent in the registry" in alone.stderr
    )
    both = baton(
        "validate",
        str(workflow),
        "--registry",
        "statemachines/agents.yaml",
        "--registry",
        str(mine),
    )
    assert both.returncode == 1
    assert both.stderr.strip() == (
        f"{mine}: agents[0].handler: agent echo-back: cannot import module 'greeter_x' of handler "
        "greeter_x.handler: ModuleNotFoundError: No module named 'greeter_x'"
    )
