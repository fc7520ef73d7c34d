"""Running AWS's own validators (pinned, installed by make) on what Baton generates."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"


def cfn_lint(template: Path) -> list[dict[str, Any]]:
    """cfn-lint's findings (JSON), errors and warnings."""
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(template)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode in (0, 2, 4, 6), result.stderr  # 2 errors, 4 warnings, 6 both
    return json.loads(result.stdout or "[]")


def errors(findings: list[dict[str, Any]]) -> list[str]:
    return [f"{f['Rule']['Id']}: {f['Message']}" for f in findings if f["Level"] == "Error"]


def asl_validator(definitions: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """asl-validator on each definition (name → JSON text); exit 0 when all are valid."""
    paths = []
    for name, text in definitions.items():
        path = folder / f"{name}.asl.json"
        path.write_text(text, encoding="utf-8")
        paths += ["--json-path", str(path)]
    return subprocess.run(
        [str(ASL_VALIDATOR), *paths], capture_output=True, text=True, check=False, timeout=120
    )


def state_machine_template(definition: str, substitutions: dict[str, str]) -> dict[str, Any]:
    """A minimal template holding one state machine, as the stack declares them."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": definition,
                    "DefinitionSubstitutions": substitutions,
                    "RoleArn": "arn:aws:iam::123456789012:role/baton-machine",
                },
            }
        },
    }
