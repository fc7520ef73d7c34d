"""The agent SDK's API reference (docs/agent-sdk.md), generated from the docstrings of
functions/baton_agent by `baton docs`: a test fails when the committed page is stale.

What each error does to retries and fallbacks is computed from the compiler's own lists
(baton.compiler.retry), so the page cannot promise what the state machines do not do.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from baton.compiler.retry import NOT_RETRIED, ends_run
from baton.lambda_code import use_functions

DOCS_FILE = "docs/agent-sdk.md"


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def attribute_docs(cls: type) -> dict[str, str]:
    """The docstring under each annotated attribute of a class body (PEP 257 attribute
    docstrings, which Python itself keeps nowhere)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, following in zip(body, [*body[1:], None], strict=True):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _fields_table(cls: type) -> list[str]:
    docs = attribute_docs(cls)
    rows = ["| field | type | what it is |", "|---|---|---|"]
    for item in dataclasses.fields(cls):
        rows.append(f"| `{item.name}` | `{item.type}` | {_one_line(docs.get(item.name, ''))} |")
    return rows


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, member in vars(cls).items():
        if not name.startswith("_"):
            yield name, member


def _properties_table(cls: type) -> list[str]:
    rows = ["| property | type | what it is |", "|---|---|---|"]
    for name, member in _members(cls):
        if isinstance(member, property) and member.fget is not None:
            returns = inspect.signature(member.fget).return_annotation
            rows.append(f"| `{name}` | `{returns}` | {_one_line(_doc(member))} |")
    return rows


def _default(value: Any) -> str:
    return value.__name__ if callable(value) else repr(value)


def signature(function: Callable[..., Any]) -> str:
    """`(a: int, *, b: str = 'x') -> T`: annotations as written, callables by name (a
    function's repr holds its address, which changes every run)."""
    parts, star = [], False
    for param in inspect.signature(function).parameters.values():
        if param.kind is param.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        stars: dict[Any, str] = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}
        text = stars.get(param.kind, "") + param.name
        if param.annotation is not param.empty:
            text += f": {param.annotation}"
        if param.default is not param.empty:
            text += f" = {_default(param.default)}"
        star = star or param.kind is param.VAR_POSITIONAL
        parts.append(text)
    returns = inspect.signature(function).return_annotation
    tail = "" if returns is inspect.Signature.empty else f" -> {returns}"
    return f"({', '.join(parts)}){tail}"


def _function(name: str, function: Callable[..., Any], level: str = "###") -> list[str]:
    return [f"{level} `{name}{signature(function)}`", "", _doc(function), ""]


def _methods(cls: type, level: str = "###") -> list[str]:
    lines: list[str] = []
    for name, member in _members(cls):
        if inspect.isfunction(member):
            lines += _function(f"{cls.__name__}.{name}", member, level)
    return lines


def _errors(*modules: ModuleType) -> list[type[Exception]]:
    found: list[type[Exception]] = []
    for module in modules:
        for _, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, Exception) and member.__module__ == module.__name__:
                found.append(member)
    return found


def error_behaviour(error: type[Exception]) -> tuple[str, str, str]:
    """(the name Step Functions sees, whether it is retried, whether a fallback applies)."""
    from baton_agent.errors import AgentInputError

    reported = "AgentInputError" if issubclass(error, AgentInputError) else error.__name__
    ending = ends_run(express=True)
    if reported in [*NOT_RETRIED, *ending]:
        retried, fallback = "never", "no: the run fails" if reported in ending else "yes, at once"
    else:
        retried, fallback = "yes, with the backoff", "yes, once retries are spent"
    return reported, retried, fallback


def _errors_table(errors: list[type[Exception]]) -> list[str]:
    rows = [
        "| error | Step Functions sees | retried | fallback | what it means |",
        "|---|---|---|---|---|",
    ]
    for error in errors:
        reported, retried, fallback = error_behaviour(error)
        rows.append(
            f"| `{error.__name__}` | `{reported}` | {retried} | {fallback} | "
            f"{_one_line(_doc(error))} |"
        )
    rows.append(
        "| any other exception (`KeyError`, `httpx.HTTPError`...) | its class name | "
        "yes, with the backoff | yes, once retries are spent | An unexpected failure: "
        "another attempt may succeed. |"
    )
    return rows


def render() -> str:
    """The whole reference page, as Markdown."""
    use_functions()
    import baton.testing as fixtures
    import baton_agent
    from baton_agent import cache, errors, redaction, runtime, secrets, stash, testing

    lines = [
        "# Agent SDK reference",
        "",
        "<!-- Generated by `baton docs` from the docstrings of functions/baton_agent; "
        "tests/unit/test_sdk_docs.py fails when it is stale. Edit the docstrings, not this page. -->",
        "",
        _doc(baton_agent),
        "",
        "A first agent, step by step: [first-agent.md](first-agent.md).",
        "",
        *_function("@agent", runtime.agent, "##"),
        _doc(runtime),
        "",
        "## `AgentResult`",
        "",
        _doc(runtime.AgentResult),
        "",
        *_fields_table(runtime.AgentResult),
        "",
        "## `AgentContext`",
        "",
        _doc(runtime.AgentContext),
        "",
        *_fields_table(runtime.AgentContext),
        "",
        *_properties_table(runtime.AgentContext),
        "",
        *_methods(runtime.AgentContext),
        "## Errors, and what each does to retries",
        "",
        _doc(errors),
        "",
        "An agent raises them, or any exception. Every `AgentInputError` subclass is reported "
        "under that one name, which is never retried. A fallback (`skip`, `alternative`, "
        "`abort`) takes over from a failed step once its retries are spent; two errors end "
        "the run whatever the fallback.",
        "",
        *_errors_table(_errors(errors, secrets)),
        "",
        "## Secrets",
        "",
        _doc(secrets),
        "",
        _doc(redaction),
        "",
        *_function("secret_id", runtime.secret_id),
        "## Keep and stash",
        "",
        _doc(stash),
        "",
        "## Cache keys",
        "",
        _doc(cache),
        "",
        *_function("cache_key", cache.cache_key),
        "## Test kit",
        "",
        _doc(testing),
        "",
        _doc(fixtures),
        "",
        "### `AgentTestKit`",
        "",
        _doc(testing.AgentTestKit),
        "",
        *_methods(testing.AgentTestKit, "####"),
        "### `AgentCall`",
        "",
        _doc(testing.AgentCall),
        "",
        *_fields_table(testing.AgentCall),
        "",
        *_function("registered_agent", fixtures.registered_agent),
        *_function("run_workflow", fixtures.OfflineWorkflows.__call__),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
