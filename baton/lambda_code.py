"""The Lambda code (functions/), importable from the build-time core: the manifest, the offline
runtime and the CLI read its contracts (table keys, variable names, the API's routes)."""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"


def use_functions(functions_dir: Path = FUNCTIONS_DIR) -> None:
    """Make the Lambda code importable, as it is at the root of a Lambda package."""
    if str(functions_dir) not in sys.path:
        sys.path.insert(0, str(functions_dir))
