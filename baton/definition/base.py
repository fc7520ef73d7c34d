"""Shared pydantic configuration for definition files: camelCase keys, unknown keys refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt
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

AgentRef = StrictInt | str
"""An agent named by its registry id (`10`, as in the reference document) or its name."""
