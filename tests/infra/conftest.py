"""The stack, synthesized once (in-process, as `cdk synth` does) for the infra tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Synthesizing takes seconds: every infra test runs on the one worker that synthesized."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("synth"))


@dataclass
class Synthesized:
    stack: Any
    manifest: Any
    template: dict[str, Any]
    template_path: Path
    report: dict[str, Any]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    from infra.app import build_app, new_app

    if not (ROOT / "build" / "layer" / "python").is_dir():
        pytest.fail("no Lambda layer: run `make layer` (make test does)")
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = new_app(outdir=str(outdir))
    stack = build_app(app, root=ROOT, prefix="baton")
    app.synth()
    template_path = outdir / "Baton.template.json"
    return Synthesized(
        stack=stack,
        manifest=stack.references.manifest,
        template=json.loads(template_path.read_text()),
        template_path=template_path,
        report=json.loads((outdir / "validation-report.json").read_text()),
    )
