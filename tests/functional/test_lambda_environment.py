"""The Lambda code with only what Lambda will have: the layer's packages (functions/requirements.txt)
and what the Python runtime provides, in a fresh interpreter with Lambda's variables set."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from baton.deploy.layer import RUNTIME_PROVIDED
from tests.conftest import ROOT

FUNCTIONS = ROOT / "functions"
NEVER_IN_LAMBDA = ("moto", "typer", "rich", "yaml", "jsonata", "aws_cdk", "baton")


def layer_requirements() -> list[str]:
    names = []
    for line in (FUNCTIONS / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.append(re.split(r"[\[=<>]", line)[0])
    return names


def lambda_site(target: Path) -> Path:
    """A site-packages holding only the layer's and the runtime's packages (linked from .venv)."""
    target.mkdir()
    for name in [*layer_requirements(), *RUNTIME_PROVIDED]:
        dist = importlib.metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists() and top != "..":
                (target / top).symlink_to(source)
    return target


def run_in_lambda(site: Path, code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.path[:0] = [{str(FUNCTIONS)!r}, {str(site)!r}]\n"
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "baton-agent-log",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "PATH": "/usr/bin:/bin",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return lambda_site(tmp_path_factory.mktemp("lambda") / "site-packages")


def test_the_layer_lists_nothing_the_lambda_code_does_not_need():
    listed = {name.lower().replace("_", "-") for name in layer_requirements()}
    for unwanted in ("moto", "typer", "rich", "pyyaml", "jsonata-python", "pydantic-settings"):
        assert unwanted not in listed
    assert not listed & set(RUNTIME_PROVIDED)


def test_every_lambda_module_imports_with_only_the_layer(site):
    modules = sorted(
        ".".join(p.relative_to(FUNCTIONS).with_suffix("").parts).removesuffix(".__init__")
        for p in FUNCTIONS.rglob("*.py")
    )
    code = (
        "import importlib, json\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {list(NEVER_IN_LAMBDA)!r} "
        "if importlib.util.find_spec(m) is not None]))\n"
    )
    result = run_in_lambda(site, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []  # nor can it import them


def test_an_agent_invocation_in_lambda_is_traced_only_when_asked(site):
    # Lambda's own tracing needs no code; subsegments (the X-Ray SDK, 0.8 s of a cold start)
    # only with BATON_TRACE_SUBSEGMENTS
    plain = (
        "import sys\n"
        "from agents.log.handler import handler\n"
        "handler({'agent': 'log', 'data': {'x': 1}, 'context': {}}, None)\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))\n"
    )
    result = run_in_lambda(site, plain, POWERTOOLS_METRICS_DISABLED="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    code = (
        "from agents.log.handler import handler\n"
        "from baton_agent import observability\n"
        "import json\n"
        "result = handler({'agent': 'log', 'data': {'x': 1}, 'context': {}}, None)\n"
        "print(json.dumps({'tracing': observability._tracing_wanted(), "
        "'tracer': type(observability._tracer()).__name__, 'accuracy': result['accuracy']}))\n"
    )
    result = run_in_lambda(
        site, code, POWERTOOLS_METRICS_DISABLED="true", BATON_TRACE_SUBSEGMENTS="true"
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome == {"tracing": True, "tracer": "Tracer", "accuracy": 100}


def test_in_lambda_the_dynamodb_client_is_made_while_the_module_loads(site):
    code = (
        "from baton_agent import runtime\n"
        "made = runtime._dynamodb.cache_info().currsize\n"
        "import agents.log.handler\n"
        "print(made, runtime._dynamodb.cache_info().currsize)\n"
    )
    result = run_in_lambda(site, code, BATON_EXECUTIONS_TABLE="baton-executions")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 1"  # made by the import: Lambda's init phase


INIT_PHASE = (
    "import gc, importlib, json\n"
    "import baton_agent\n"
    "held = not gc.isenabled()\n"
    "importlib.import_module({module!r})\n"
    "print(json.dumps([held, gc.isenabled(), gc.get_freeze_count() > 0]))\n"
)


@pytest.mark.parametrize(
    "module", ["agents.log.handler", "api.handler", "events.handler", "schedules.handler"]
)
def test_the_init_phase_runs_without_collector_passes_and_ends_with_collection_on(site, module):
    """In Lambda the cyclic collector waits while the modules load (its full passes walked every
    object made so far, most of an agent's cold start), then what the init phase made is frozen
    and collection resumes: an agent's module, once decorated; a service function's, loaded."""
    code = INIT_PHASE.format(module=module)
    table = {"BATON_EXECUTIONS_TABLE": "baton-executions"}
    result = run_in_lambda(site, code, AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001", **table)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [True, True, True]
    # a test suite that sets Lambda's function name (for Powertools) is not a Lambda runtime
    outside = run_in_lambda(site, code, **table)
    assert outside.returncode == 0, outside.stderr
    assert json.loads(outside.stdout.splitlines()[-1]) == [False, True, False]
