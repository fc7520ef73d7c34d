"""`when` expressions: JSONata evaluated against the workflow data."""

from __future__ import annotations

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
