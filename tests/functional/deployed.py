"""A Lambda function's environment as the stack configures it, for tests that call a handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from baton.deploy.manifest import FunctionDeployment, environment_text, resolve_value


def configure_like_the_stack(
    runtime: Any, function: FunctionDeployment, monkeypatch: Any, folder: Path
) -> None:
    """Set the variables the stack gives `function`, its catalog file written where the
    variable points (the stack ships it in a layer), and forget the settings read so far."""
    from baton_agent.settings import WORKFLOWS_FILE, get_settings

    manifest, resolve = runtime.manifest, runtime.resources.resolve
    catalog = folder / "workflows.json"
    catalog.write_text(json.dumps(resolve_value(manifest.catalog(), resolve)))
    for name, value in environment_text(function.environment, resolve).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(WORKFLOWS_FILE, str(catalog))
    get_settings.cache_clear()
