"""Deployment and API: the Lambda package size, the time to synthesize the stack, and the
offline API's latency (start and get; median and p95 over 100 calls each, over HTTP).

Targets: package (code + layer, unzipped) under 30 MB (83 MB with everything in one
requirements file); synth under 60 s (the CI budget allows it once); the local API's get at
most 2x a direct lifecycle read (HTTP, token and routing), start p95 under 250 ms.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from typing import Any

from bench.common import ROOT, ROUNDS, Result, interleaved, registry, report, spread, workflow


def noop(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"data": {event["agent"]: True}, "accuracy": 100, "meta": {"agent": event["agent"]}}


def package_size() -> Result:
    from baton.deploy.layer import CODE_EXCLUDES, DEFAULT_TARGET, tree_size

    layer = ROOT / DEFAULT_TARGET
    if not (layer / "python").is_dir():
        return Result("Lambda package (code + layer)", "no layer: run make layer", "< 30 MB", False)
    total = tree_size(layer) + tree_size(ROOT / "functions", CODE_EXCLUDES)
    return Result(
        "Lambda package (code + layer)",
        f"{total / 1e6:.1f} MB ({total / 83e6:.2f}x the 83 MB)",
        "< 30 MB",
        total < 30e6,
        "exact size of functions/ and build/layer; not timed",
    )


def synth_time() -> Result:
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import tempfile

    from infra.app import build_app, new_app

    def synth() -> float:
        with tempfile.TemporaryDirectory() as outdir:
            started = time.perf_counter()
            app = new_app(outdir=outdir)
            build_app(app, root=ROOT, prefix="baton")
            app.synth()
            return time.perf_counter() - started

    samples = interleaved({"synth": synth})["synth"]
    seconds = statistics.median(samples)
    return Result(
        "synth (whole stack, cdk-nag)",
        f"{seconds:.1f} s",
        "< 60 s",
        seconds < 60,
        f"{ROUNDS} rounds; {spread(samples, 1, 's')}",
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def api_latency() -> list[Result]:
    from baton.local.runtime import LocalRuntime
    from baton.local.server import LocalApi, LocalServer
    from baton.local.tokens import issue

    reg = registry(1)
    key = "bench-signing-key-of-thirty-two-bytes"
    with LocalRuntime(reg, handlers={a.name: noop for a in reg}) as runtime:
        runtime.deploy(workflow(reg, 1))
        server = LocalServer(LocalApi(runtime, key))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        host, port = server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port))
        headers = {"Authorization": f"Bearer {issue('bench', key)}"}

        def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
            data = json.dumps(body) if body is not None else None
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload: dict[str, Any] = json.loads(response.read())
            assert response.status in (200, 201), payload
            return payload

        for _ in range(5):  # the first calls build the routes and clients: not the steady state
            execution_id = call("POST", "/workflows/bench-1/executions", {})["executionId"]
        starts, gets, direct, started = [], [], [], []
        for _ in range(100):
            began = time.perf_counter()
            execution_id = call("POST", "/workflows/bench-1/executions", {})["executionId"]
            starts.append(time.perf_counter() - began)
            started.append(execution_id)
        for each in started:  # reads are timed once the runs have ended, not against them
            runtime.services.settle("bench", each)
        for _ in range(100):
            began = time.perf_counter()
            call("GET", f"/executions/{execution_id}")
            gets.append(time.perf_counter() - began)
            began = time.perf_counter()
            runtime.services.lifecycle.get("bench", execution_id)
            direct.append(time.perf_counter() - began)
        server.shutdown()
    ms = 1000
    start_p95, get_median = percentile(starts, 0.95), statistics.median(gets)
    ratio = get_median / statistics.median(direct)
    print(
        f"  start: median {statistics.median(starts) * ms:.1f} ms, p95 {start_p95 * ms:.1f} ms; "
        f"get: median {get_median * ms:.1f} ms, p95 {percentile(gets, 0.95) * ms:.1f} ms; "
        f"lifecycle.get directly: median {statistics.median(direct) * ms:.1f} ms"
    )
    return [
        Result(
            "API start p95 (100 calls)",
            f"{start_p95 * ms:.1f} ms",
            "< 250 ms",
            start_p95 < 0.25,
            f"100 calls after 5 untimed; {spread(starts)}",
        ),
        Result(
            "API get / direct read (median)",
            f"{ratio:.2f}x",
            "≤ 2x",
            ratio <= 2,
            f"100 calls each, interleaved; get {spread(gets)}; direct {spread(direct)}",
        ),
    ]


def main() -> bool:
    results = [package_size(), synth_time(), *api_latency()]
    return report("deployment and API", results)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
