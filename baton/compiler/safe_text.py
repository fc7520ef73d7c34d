"""Text of the ASL that AWS's tools accept whatever the user wrote.

- A JSONata expression is one line: asl-validator (and Step Functions) reject a raw line break
  or U+2028/U+2029 inside `{% %}`. Outside string literals they become spaces; inside, escapes.
- `${` is CloudFormation's substitution syntax in a state machine definition: only Baton's own
  placeholders may carry it. Anywhere else (initial data, names, comments, expressions) the `$`
  is written as the JSON escape `\\u0024`, which every JSON reader turns back into `$`.
"""

from __future__ import annotations

import re
from typing import Any

_BREAKS = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_PLACEHOLDER = re.compile(r'(?<!\\)"\$\{(?:AgentFn_\w+|ExecutionsTable|EventsFn)\}"')


def single_line(expression: str) -> str:
    """The expression with no raw line break: spaces between tokens, escapes inside strings."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for char in expression:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            out.append(_BREAKS.get(char, char))
            continue
        if char in "\"'`":
            quote = char
        out.append(" " if char in _BREAKS else char)
    return "".join(out)


def single_line_expressions(node: Any) -> Any:
    """Every `{% ... %}` string of an ASL document made single_line (a copy)."""
    if isinstance(node, dict):
        return {key: single_line_expressions(value) for key, value in node.items()}
    if isinstance(node, list):
        return [single_line_expressions(value) for value in node]
    if isinstance(node, str) and node.startswith("{%") and node.endswith("%}"):
        return single_line(node)
    return node


def escape_substitutions(definition: str) -> str:
    """JSON text with every `${` that is not one of Baton's placeholders written `\\u0024{`."""
    kept = [m.span() for m in _PLACEHOLDER.finditer(definition)]
    out: list[str] = []
    position = 0
    for start, end in kept:
        out.append(definition[position:start].replace("${", "\\u0024{"))
        out.append(definition[start:end])
        position = end
    out.append(definition[position:].replace("${", "\\u0024{"))
    return "".join(out)
