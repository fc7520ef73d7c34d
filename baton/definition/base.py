"""Shared pydantic configuration for definition files: camelCase keys, unknown keys refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic.alias_generators import to_camel


class DefinitionModel(BaseModel):
    """Base of every model read from a definition file."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        frozen=True,
    )


AGENT_NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"

AgentName = Annotated[str, Field(pattern=AGENT_NAME_PATTERN, max_length=40)]
"""An agent's name: lowercase words joined by hyphens (`check-price`)."""


def _agent_ref(value: object) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an agent id (a number) or an agent name")
    return value


AgentRef = Annotated[
    int | str,
    PlainValidator(_agent_ref),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}),
]
"""An agent named by its registry id (`10`, as in the reference document) or its name."""
