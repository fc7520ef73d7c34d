"""The CDK app: `cdk synth` / `cdk deploy` (see cdk.json). Every workflow file in statemachines/
and every agent of the registry, deployed as the manifest (baton/deploy) describes them.

Context: `-c prefix=<name>` names the deployment (default "baton"); the region and account come
from the CLI's environment (CDK_DEFAULT_REGION / CDK_DEFAULT_ACCOUNT).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "functions"))  # the manifest reads the Lambda code's contracts

import aws_cdk as cdk  # noqa: E402

from infra.app import build_app, new_app  # noqa: E402

app = new_app()
build_app(
    app,
    root=ROOT,
    prefix=app.node.try_get_context("prefix") or "baton",
    env=cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    ),
)
app.synth()
