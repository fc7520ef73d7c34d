"""`when` expressions: JSONata evaluated against the workflow data."""

from __future__ import annotations

from typing import Any

import jsonata


class ExpressionError(ValueError):
    """A `when` expression that JSONata cannot parse."""


def check_expression(expression: str) -> None:
    """Parse `expression`; raise ExpressionError with JSONata's reason when it is invalid."""
    if not expression.strip():
        raise ExpressionError("the expression is empty")
    if "%}" in expression or "{%" in expression:
        raise ExpressionError("write the bare JSONata expression, without '{%' and '%}'")
    try:
        jsonata.Jsonata(expression)
    except Exception as err:  # jsonata raises JException (a RuntimeError) with the reason
        raise ExpressionError(str(err)) from err


def on_data(expression: str, data_variable: str = "$data") -> str:
    """The expression evaluated with the workflow data as its context, forced to a boolean."""
    return f"$boolean({data_variable}.({expression})) = true"


EVERYTHING = "*"
"""Stands for "the whole data" among the fields an expression reads (as baton_agent.payloads)."""
_READS_EVERYTHING = {"wildcard", "descendant", "parent"}


def fields_read(expression: str) -> frozenset[str]:
    """Every field name the expression may read (over-approximated: each name in a path, not
    only the first), or {EVERYTHING} when it reads the data as a whole (`*`, `**`, `$`)."""
    names: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [jsonata.Jsonata(expression).ast]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if id(node) in seen or not hasattr(node, "type"):
            continue
        seen.add(id(node))
        kind, value = node.type, getattr(node, "value", None)
        if kind == "name" and isinstance(value, str):
            names.add(value)
        elif kind in _READS_EVERYTHING or (kind == "variable" and value in ("", "$")):
            return frozenset({EVERYTHING})
        stack.extend(
            child
            for attribute, child in vars(node).items()
            if attribute != "_outer_instance"
            and (isinstance(child, list) or hasattr(child, "type"))
        )
    return frozenset(names)
