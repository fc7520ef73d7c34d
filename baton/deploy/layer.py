"""The Lambda package: function code (functions/) and the dependency layer, built without Docker.

    python -m baton.deploy.layer [TARGET]     # build the layer into TARGET (default build/layer)

The layer is pip-installed from manylinux wheels for the runtime and architecture the stack
deploys (`--platform --implementation cp --python-version --only-binary=:all:`), with
`--no-deps`: functions/requirements.txt pins every package it needs, and what the Lambda runtime
provides (boto3, botocore and their dependencies) stays out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LAMBDA_PYTHON = "3.14"
"""The latest Python runtime the pinned aws-cdk-lib offers (infra/ uses the same)."""
ARCHITECTURE = "arm64"
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
"""Wheels that run on the runtime's Amazon Linux 2023 (glibc 2.34) on Graviton."""
RUNTIME_PROVIDED = ("boto3", "botocore", "jmespath", "python-dateutil", "s3transfer", "six")
"""What the Lambda Python runtime already has: never in the layer."""
DEFAULT_TARGET = Path("build/layer")
CODE_EXCLUDES = ("__pycache__", "*.pyc", "requirements.txt")
"""Left out of the function code asset."""


def build_layer(requirements: Path, target: Path) -> Path:
    """pip-install the layer into `target/python` (Lambda adds /opt/python to sys.path)."""
    if target.exists():
        shutil.rmtree(target)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
        "--target",
        str(target / "python"),
        "-r",
        str(requirements),
    ]
    subprocess.run(command, check=True)
    present = {p.name.split("-")[0].lower().replace("_", "-") for p in target.glob("python/*")}
    leaked = sorted(name for name in RUNTIME_PROVIDED if name in present)
    if leaked:
        raise RuntimeError(f"the layer must not carry what the runtime provides: {leaked}")
    return target


def tree_size(path: Path, excludes: tuple[str, ...] = ()) -> int:
    """Bytes of every file under `path` (unzipped), skipping names matching `excludes`."""
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not any(Path(d).match(p) for p in excludes)]
        for name in files:
            if not any(Path(name).match(p) for p in excludes):
                total += (Path(root) / name).stat().st_size
    return total


def main(argv: list[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    target = Path(argv[0]) if argv else root / DEFAULT_TARGET
    build_layer(root / "functions" / "requirements.txt", target)
    layer = tree_size(target)
    code = tree_size(root / "functions", CODE_EXCLUDES)
    print(
        f"Lambda package (unzipped): code {code / 1e6:.1f} MB + layer {layer / 1e6:.1f} MB "
        f"= {(code + layer) / 1e6:.1f} MB (python{LAMBDA_PYTHON}, {ARCHITECTURE}; goal < 30 MB)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
