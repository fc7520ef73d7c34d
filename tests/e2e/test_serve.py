"""`baton serve` end to end: the server as a user starts it (a subprocess, free ports), the API
over real HTTP with a token from `baton token`, and boto3 pointed at the printed AWS endpoint."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from tests.conftest import ROOT

ENV = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def start_server(*options: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`baton serve` on free ports, as a user starts it; its API and AWS endpoints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "baton.cli", "serve", "--port", "0", "--aws-port", "0", *options],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    endpoints: dict[str, str] = {}
    deadline = time.monotonic() + 90
    lines = []
    while len(endpoints) < 2 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.match(r"(Baton API|AWS endpoint): (http://127\.0\.0\.1:\d+)", line)
        if match:
            endpoints["api" if match.group(1) == "Baton API" else "aws"] = match.group(2)
    if len(endpoints) < 2:
        process.kill()
        raise AssertionError("".join(lines))
    endpoints["started"] = "".join(lines)
    return process, endpoints


def token(tenant: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "baton.cli", "token", tenant],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def http(server, method: str, path: str, tenant: str | None = "acme", body: Any = None):
    headers = {"Content-Type": "application/json"}
    if tenant:
        headers["Authorization"] = f"Bearer {token(tenant)}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server["api"] + path, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(server, execution_id: str, statuses: tuple[str, ...], tenant: str = "acme"):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, record = http(server, "GET", f"/executions/{execution_id}", tenant)
        assert status == 200, record
        if record["status"] in statuses:
            return record
        time.sleep(0.2)
    raise AssertionError(f"{execution_id} never reached {statuses}: {record['status']}")


def test_a_run_over_http_completes_and_is_read_back(server):
    status, started = http(
        server,
        "POST",
        "/workflows/workflow_conditional_001/executions",
        body={"input": {"lastKnownPrice": 120}},
    )
    assert status == 201, started
    done = wait_for(server, started["executionId"], ("completed", "failed"))
    assert done["status"] == "completed", done.get("error")
    assert [h["agent"] for h in done["handoffs"]] == ["check-price", "slack-notify"]
    status, listed = http(server, "GET", "/workflows/workflow_conditional_001/executions")
    assert started["executionId"] in [e["executionId"] for e in listed["executions"]]


def test_another_run_is_cancelled_and_other_tenants_are_refused(server):
    # competitor-monitoring waits 2 s (really, --real-waits) before retrying its failed scraper
    status, started = http(server, "POST", "/workflows/competitor-monitoring/executions", body={})
    assert status == 201, started
    execution = f"/executions/{started['executionId']}"
    status, cancelled = http(server, "POST", f"{execution}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    final = wait_for(server, started["executionId"], ("cancelled",))
    assert final["endTime"]

    assert http(server, "GET", execution, tenant="acme-corp")[0] == 404
    assert http(server, "POST", f"{execution}/resume", tenant="acme-corp")[0] == 404
    status, body = http(server, "GET", execution, tenant=None)
    assert status == 401 and "Bearer" in body["message"]
    status, resumed = http(server, "POST", f"{execution}/resume")
    assert status == 200 and resumed["status"] == "running", resumed


def test_boto3_at_the_printed_endpoint_sees_the_deployment(server):
    options = {
        "endpoint_url": server["aws"],
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    sfn = boto3.client("stepfunctions", **options)
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    assert "baton-workflow_conditional_001" in machines
    http(server, "POST", "/workflows/workflow_conditional_001/executions", body={})
    runs = sfn.list_executions(stateMachineArn=machines["baton-workflow_conditional_001"])
    assert runs["executions"]
    tables = boto3.client("dynamodb", **options).list_tables()["TableNames"]
    assert {"baton-executions", "baton-cache", "baton-agent-stats"} <= set(tables)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed here")
def test_the_aws_cli_at_the_printed_endpoint_sees_the_deployment(server):
    env = {
        **ENV,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        ["aws", "--endpoint-url", server["aws"], "stepfunctions", "list-state-machines"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = {m["name"] for m in json.loads(result.stdout)["stateMachines"]}
    assert "baton-competitor-monitoring" in names
