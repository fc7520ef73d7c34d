"""Build the Baton app: the manifest from the project's files, the stack, the cdk-nag checks."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from baton.compiler.asl import compile_workflow
from baton.definition.loader import (
    DEFINITIONS_DIR,
    REGISTRY_FILE,
    load_registry,
    load_workflow,
    workflow_files,
)
from baton.deploy.layer import DEFAULT_TARGET
from baton.deploy.manifest import Manifest, build_manifest
from infra.stack import BatonStack

FEATURE_FLAGS = {
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/aws-lambda:recognizeVersionProps": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/core:checkSecretUsage": True,
}
"""The CDK feature flags the app is built with (cdk.json's context would not reach tests)."""


def new_app(outdir: str | None = None, **context: object) -> cdk.App:
    return cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **context})


def project_manifest(root: Path, prefix: str) -> Manifest:
    registry = load_registry(root / DEFINITIONS_DIR / REGISTRY_FILE)
    workflows = [
        compile_workflow(load_workflow(path, registry))
        for path in workflow_files(root / DEFINITIONS_DIR)
    ]
    return build_manifest(registry, workflows, prefix=prefix)


def build_app(
    app: cdk.App, *, root: Path, prefix: str, env: cdk.Environment | None = None
) -> BatonStack:
    manifest = project_manifest(root, prefix)
    stack = BatonStack(
        app,
        "Baton" if prefix == "baton" else f"Baton-{prefix}",
        manifest=manifest,
        functions_dir=root / "functions",
        layer_dir=root / DEFAULT_TARGET,
        build_dir=root / "build",
        env=env,
        description="Baton: automation workflows on Step Functions, agents on Lambda",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack
