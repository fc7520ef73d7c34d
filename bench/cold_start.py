"""Cold start of a shipped agent in a fresh interpreter, as Lambda runs one.

The child process imports the agent's handler module and serves its first invocation: the
agent's work, its handoff and checkpoint written to DynamoDB (a moto server on 127.0.0.1,
reached through AWS_ENDPOINT_URL as a Lambda reaches DynamoDB), its statistics counted.
Baseline: a fresh interpreter running `import boto3` and creating one DynamoDB client, the
floor of any Python Lambda that writes to AWS. Interpreter start (`pass`) is subtracted from
both. Target (issue 10): at most 1.3x, medians of the rounds (rounds interleaved).

The agent holds the cyclic garbage collector during its init phase (baton_agent.init_phase);
the baseline, plain boto3, does not: its collector's full passes are part of its time, as they
are of any Lambda that does not hold it. So the ratio can fall below 1.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid

from bench.common import ROOT, interleaved, process_seconds, ratio_result, report, spread

ROUNDS = 9
BASELINE = "import boto3; boto3.client('dynamodb')"
AGENT = """
import json, sys
from agents.log.handler import handler
class Context:
    function_name = "baton-agent-log"
    aws_request_id = "cold-start"
    def get_remaining_time_in_millis(self): return 30_000
response = handler(json.loads(sys.argv[1]), Context())
assert response["data"]["log"]["message"] == "cold start", response
"""


def _event() -> str:
    execution_id = f"exec_{uuid.uuid4().hex[:12]}"
    return json.dumps(
        {
            "agent": "log",
            "position": 0,
            "attempt": 1,
            "requiredAccuracy": 0,
            "data": {"logMessage": "cold start"},
            "context": {
                "executionId": execution_id,
                "run": f"arn:aws:states:us-east-1:123456789012:execution:baton-one:{execution_id}-1",
                "workflowId": "one",
                "tenant": "default",
                "noCache": False,
                "deadline": time.time() + 300,
                "retentionDays": 1,
                "expiresAt": int(time.time()) + 86_400,
            },
        }
    )


def _seconds(code: str, environment: dict[str, str], *args: str) -> float:
    return process_seconds(
        [sys.executable, "-c", code, *args], cwd=ROOT / "functions", env=environment
    )


def _deployment(endpoint: str) -> dict[str, str]:
    """Tables created on the server, and the environment a deployed agent function gets."""
    import boto3

    from baton.definition.loader import load_registry
    from baton.deploy.manifest import build_manifest, environment_text
    from baton.local.resources import LocalResources
    from baton.local.tables import create_tables

    manifest = build_manifest(load_registry())
    create_tables(
        boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1"),
        manifest.tables.values(),
    )
    resources = LocalResources(manifest, "us-east-1", "123456789012")
    return environment_text(manifest.agents["log"].environment, resources.resolve)


def main(rounds: int = ROUNDS) -> bool:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BATON_"))},
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": "baton-agent-log",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # set by every Lambda runtime
            "PYTHONPATH": str(ROOT / "functions"),
            **_deployment(endpoint),
        }
        times = interleaved(
            {
                "bare": lambda: _seconds("pass", environment),
                "baseline": lambda: _seconds(BASELINE, environment),
                "agent": lambda: _seconds(AGENT, environment, _event()),
            },
            rounds,
        )
    finally:
        server.stop()
    bare = statistics.median(times["bare"])
    median = {k: statistics.median(v) - bare for k, v in times.items() if k != "bare"}
    low = {k: min(v) - min(times["bare"]) for k, v in times.items() if k != "bare"}
    for name in median:
        print(f"  {name:<9} median {median[name] * 1000:.0f} ms, min {low[name] * 1000:.0f} ms")
    ratio = median["agent"] / median["baseline"]
    return report(
        "cold start (fresh interpreter, interpreter start subtracted)",
        [
            ratio_result(
                "import + first call / (import boto3 + a client)",
                ratio,
                1.3,
                f"{rounds} rounds; whole processes (start included): agent {spread(times['agent'])}; "
                f"baseline {spread(times['baseline'])}; bare {spread(times['bare'])}; the agent "
                "holds the garbage collector during its init phase, plain boto3 does not",
            )
        ],
    )


if __name__ == "__main__":
    raise SystemExit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS) else 1)
