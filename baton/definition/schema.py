"""The JSON Schema of workflow files, for editors (YAML language server, VS Code) and docs."""

from __future__ import annotations

from typing import Any

from baton.definition.workflow import Workflow


def workflow_schema() -> dict[str, Any]:
    schema = Workflow.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Baton workflow"
    schema["description"] = (
        "A Baton workflow definition. Agents are named by registry name or id; durations are "
        "milliseconds (numbers) or strings with a unit ('30s', '5m'). The reference document's "
        "spellings (agentId, thenAgents, elseAgents, alternativeAgentId) are accepted too."
    )
    return schema
