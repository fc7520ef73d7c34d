"""docs/first-agent.md, executed end to end as a reader follows it: in a fresh folder, each
`# file:` block is written as shown and each `sh` block's commands must succeed, in order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.test_authoring import PYTEST_ENV

GUIDE = ROOT / "docs" / "first-agent.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def steps(text: str) -> list[tuple[str, str]]:
    """("file", path + content) or ("sh", command), in the order the guide gives them."""
    found = []
    for language, body in BLOCK.findall(text):
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            found.append(("file", first.removeprefix("# file: ") + "\n" + rest))
        elif language == "sh":
            found += [("sh", line) for line in body.splitlines() if line.strip()]
    return found


def test_the_first_agent_guide_runs_as_written(tmp_path):
    guide = steps(GUIDE.read_text(encoding="utf-8"))
    kinds = [kind for kind, _ in guide]
    assert kinds.count("file") == 5 and kinds.count("sh") == 6, kinds
    env = {**PYTEST_ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{PYTEST_ENV['PATH']}"}
    for kind, content in guide:
        if kind == "file":
            path, _, text = content.partition("\n")
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
            continue
        done = subprocess.run(
            content, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{content}\n{done.stdout}\n{done.stderr}"
        if content.startswith("baton run"):
            assert "COMPLETED" in done.stdout and '"priceTag": "USD 99.90"' in done.stdout, (
                done.stdout
            )
        if content.startswith("pytest"):
            assert re.search(r"\b(3|4) passed\b", done.stdout), done.stdout
