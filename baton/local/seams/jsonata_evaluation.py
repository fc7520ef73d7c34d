"""JSONata in Step Functions offline: evaluated by jsonata-python as AWS evaluates it.

moto leaves its evaluator unset and writes every variable's value into the text of every
expression it evaluates (`($data:={...};expr)`), so each evaluation parsed the whole workflow
data again, a string holding `"` broke the text, and results were re-checked by evaluating the
expression again inside `$type(...)` or `$exists(...)`. Here the values are kept aside and
each expression, parsed once, is evaluated once with them as bindings and with AWS's own
functions (seams.aws_jsonata).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable
from typing import Any

import jsonata
import moto.stepfunctions.parser.asl.component.common.string.string_expression as string_module
import moto.stepfunctions.parser.asl.eval.states as states_module
import moto.stepfunctions.parser.asl.eval.variable_store as variable_store_module
import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata
import moto.stepfunctions.parser.asl.jsonata.validations as jsonata_validations
import moto.stepfunctions.parser.asl.parse.preprocessor as preprocessor_module
from jsonata import utils as jsonata_utils
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import is_terminal
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

from baton.local.seams import aws_jsonata
from baton.local.seams.adaptation import Adaptation, to
from baton.local.seams.error_names import nothing_returned

AWS_FUNCTIONS = aws_jsonata.bindings()


class _Declarations(str):
    """Variable declarations: the values they declare, kept aside (`bindings`), and moto's text
    of them, written only when an expression must be evaluated as text (`written`). The str
    itself is empty: an expression composed of declarations alone is evaluated with the values
    as bindings and never reads the text (writing it was a third of the cost of encoding
    them, at every evaluation)."""

    bindings: dict[str, Any]
    written: Callable[[], str]


class _Composed(str):
    """A composed expression that can be evaluated as `expression` with `bindings`."""

    expression: str
    bindings: dict[str, Any]
    undefined: bool | None = None
    """Whether its evaluation returned nothing (None until it is evaluated)."""


def _declarations(written: Callable[[], str], bindings: dict[str, Any]) -> _Declarations:
    declared = _Declarations()
    declared.bindings = bindings
    declared.written = written
    return declared


def _text_of(declarations: str) -> str:
    """moto's text of these declarations (written now if they were kept aside)."""
    return declarations.written() if isinstance(declarations, _Declarations) else declarations


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _as_json(value: Any) -> Any:
    """The value as JSON gives it back (`json.loads(json.dumps(value, default=str))`, as moto's
    text of it would), copied directly where it is JSON already: text, numbers, booleans, null,
    lists, objects with text keys. Anything else (a tuple, a date, other keys) goes through
    JSON."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is list:
        return [_as_json(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: _as_json(item) for key, item in value.items()}
    return json.loads(json.dumps(value, default=str))


def _encoding(original: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    """The values (as moto's text would give them: _as_json), and moto's text of them, written
    when it is asked for."""

    def encode(bindings: dict[str, Any]) -> str:
        values = {name.lstrip("$"): _as_json(value) for name, value in bindings.items()}
        return _declarations(lambda: original(bindings), values)

    return encode


def _variable_declarations(store: Any) -> str:
    """VariableStore.get_variable_declarations, merging the kept values of both scopes."""
    if store._variable_declarations_cache is not None:
        cached: str = store._variable_declarations_cache
        return cached
    if store._outer_variable_declaration_cache is None:
        store._outer_variable_declaration_cache = store._to_variable_declarations(
            store._outer_scope
        )
    outer = store._outer_variable_declaration_cache
    inner = store._to_variable_declarations(store._inner_scope)
    merged = {**getattr(outer, "bindings", {}), **getattr(inner, "bindings", {})}
    declarations = _declarations(lambda: _text_of(outer) + _text_of(inner), merged)
    store._variable_declarations_cache = declarations
    return declarations


def _composing(original: Callable[[str, list[str]], str]) -> Callable[[str, list[str]], str]:
    """The expression, its variables' values kept aside as its bindings; moto's composed text
    (every declaration written) only when a part cannot be taken apart."""

    def compose(final_jsonata_expression: str, variable_declarations_list: list[str]) -> str:
        bindings: dict[str, Any] = {}
        for part in variable_declarations_list:
            if isinstance(part, _Declarations):
                bindings.update(part.bindings)
            elif part:  # what we cannot take apart (intrinsic function definitions): text it is
                texts = [_text_of(declarations) for declarations in variable_declarations_list]
                return original(final_jsonata_expression, texts)
        composed = _Composed(final_jsonata_expression)
        composed.expression, composed.bindings = final_jsonata_expression, bindings
        return composed

    return compose


@functools.lru_cache(maxsize=4096)
def _parsed(expression: str) -> Any:
    """A parsed program per expression text (a pure function of it: nothing one run leaves to
    another)."""
    program = jsonata.Jsonata(expression)
    program.set_output_convert_nulls(False)  # null stays told apart from nothing (undefined)
    return program


def _raw(expression: str, bindings: dict[str, Any] | None = None) -> Any:
    """The result as JSONata gives it: None for nothing (undefined), NULL_VALUE for null.

    Evaluated by a copy of the parsed program made the thread's current one: jsonata-python's
    $now() and $millis() read the time its thread's current program (the one it made last)
    took at its last evaluation, so a program parsed once answered with a time long past (a
    skipped step's handoff sorted before the steps that ran before it). Each evaluation has
    its own time, the same at every call within it, as in AWS."""
    program = copy.copy(_parsed(expression))  # its own time, whatever other threads evaluate
    jsonata.Jsonata.CURRENT.jsonata = program
    return program.evaluate(None, {**AWS_FUNCTIONS, **(bindings or {})})


def evaluate(expression: str, bindings: dict[str, Any] | None = None) -> Any:
    """Evaluate a JSONata expression as the offline runtime does (variables as bindings, with
    AWS's own functions and without the ones AWS lacks: seams.aws_jsonata)."""
    return jsonata_utils.Utils.convert_nulls(_raw(expression, bindings))


def _evaluate_jsonata(expression: str) -> Any:
    """moto's evaluator. An expression composed with its variables is evaluated once, with them
    as bindings, and remembers whether it returned nothing (for _nothing_is_refused)."""
    if isinstance(expression, _Composed):
        raw = _raw(expression.expression, expression.bindings)
        expression.undefined = raw is None
        return jsonata_utils.Utils.convert_nulls(raw)
    return evaluate(expression)


def _json_string(parser_rule_context: Any) -> str | None:
    """A string of the definition as JSON reads it (AWS parses the definition as JSON first):
    `\\"`, `\\\\`, `\\n`, `\\/`, `\\u0024`... decoded. moto kept the escapes of most strings
    (an Assign literal `a \\"b\\"` stayed so) and decoded the others by Python's rules."""
    if is_terminal(parser_rule_context, ASLLexer.NULL):
        return None
    text = str(parser_rule_context.getText())
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        try:
            return str(json.loads(text))
        except ValueError:
            return text[1:-1]
    return text


def _nothing_is_refused(original: Callable[[Any, str, str], None]) -> Callable[..., None]:
    """A field's expression that returned nothing fails the state (States.QueryEvaluationError),
    as in AWS; JSON null is a value. moto told them apart by evaluating `$exists(...)` around
    the expression again, its variables pasted unescaped into the text, which broke on a string
    variable holding `"`. The first evaluation's answer is used instead, and the cause names the
    field as AWS's does."""

    def validate(env: Any, expression: str, rich_expression: str) -> None:
        undefined = getattr(rich_expression, "undefined", None)
        if undefined is None:  # not composed by this runtime: moto's own check
            original(env, expression, rich_expression)
        elif undefined:
            raise nothing_returned(env, expression)

    return validate


def _string_output_is_valid(env: Any, expression: str, rich_expression: str) -> None:
    """A JSONata result that is a string is of a supported type, as AWS takes it. moto checked
    by evaluating `$type(...)` around the expression again, its variables pasted into the text
    (the whole workflow data parsed anew, for every string an expression returned)."""


def _no_function_declarations(variable_references: Any) -> str:
    """moto declares AWS's JSONata functions as text before each expression that names one (and
    a `$randomSeeded` AWS lacks); they are bindings instead (AWS_FUNCTIONS), which also keeps
    the expression evaluable with its variables as bindings."""
    return ""


def _js_numeric(original: Callable[..., Any]) -> Callable[..., Any]:
    """`/` and `%` as the reference JSONata (JavaScript) computes them, as AWS does.

    jsonata-python raises ZeroDivisionError on `x / 0` (JavaScript: ±Infinity, or NaN for
    0 / 0, which comparisons then handle) and truncates `%` to an integer (`5.5 % 2` is 1.5).
    """

    def numeric(self: Any, lhs: Any, rhs: Any, op: str | None) -> Any:
        if op not in ("/", "%") or lhs is None or rhs is None:
            return original(self, lhs, rhs, op)
        original(self, lhs, rhs, "+")  # the same type checks (T2001, T2002, D1001)
        left, right = float(lhs), float(rhs)
        if op == "%":
            result = math.fmod(left, right) if right else math.nan
        elif right:
            result = left / right
        elif left == 0 or math.isnan(left):
            result = math.nan
        else:
            result = math.copysign(math.inf, left) * math.copysign(1.0, right)
        return jsonata_utils.Utils.convert_number(result) if math.isfinite(result) else result

    return numeric


def _references_found_once(
    original: Callable[[str], set[str]],
) -> Callable[[str], set[str]]:
    """moto's search of an expression for the variables it names, once per expression text:
    moto ran its regular expression over every expression at every evaluation (the text alone
    decides the answer). Each caller gets its own set; an expression naming a variable AWS
    forbids raises each time, as before (errors are not kept)."""
    found = functools.lru_cache(maxsize=4096)(lambda text: frozenset(original(text)))

    def references(expression: str) -> set[str]:
        return set(found(expression))

    return references


FIDELITY = "tests/functional/test_offline_fidelity.py"


def adaptations() -> list[Adaptation]:
    return [
        Adaptation(
            "jsonata-evaluator",
            "JSONata expressions are evaluated (moto leaves its evaluator unset) by jsonata-python,"
            " which the reference jsonata-js checks (tests/infra/test_jsonata_fidelity.py)",
            f"{FIDELITY}::test_aws_jsonata_functions_have_aws_semantics",
            ((moto_jsonata, "_eval_jsonata", to(_evaluate_jsonata)),),
        ),
        Adaptation(
            "variables-as-bindings",
            "variables of every JSON type (quotes, backslashes, newlines, unicode) are values,"
            " never pasted into an expression's text; each expression is evaluated once",
            f"{FIDELITY}::test_variables_of_every_json_type_survive_every_evaluation_path",
            (
                (states_module, "encode_jsonata_variable_declarations", _encoding),
                (variable_store_module, "encode_jsonata_variable_declarations", _encoding),
                (
                    variable_store_module.VariableStore,
                    "get_variable_declarations",
                    to(_variable_declarations),
                ),
                (string_module, "compose_jsonata_expression", _composing),
            ),
        ),
        Adaptation(
            "variable-references-found-once",
            "(cost) the variables an expression names are found once per expression, not at"
            " every evaluation",
            "tests/functional/test_offline_scale.py::"
            "test_the_variables_an_expression_names_are_found_once_per_expression",
            (
                (
                    string_module,
                    "extract_jsonata_variable_references",
                    _references_found_once,
                ),
            ),
        ),
        Adaptation(
            "string-results-taken",
            "a string result is taken as it is, not evaluated again inside `$type(...)`",
            "tests/functional/test_offline_scale.py::test_a_string_result_is_not_evaluated_again",
            ((jsonata_validations, "_validate_string_output", to(_string_output_is_valid)),),
        ),
        Adaptation(
            "nothing-is-not-null",
            "an expression that returns nothing fails its state with States.QueryEvaluationError"
            " and AWS's cause; JSON null is a value",
            f"{FIDELITY}::test_variables_of_every_json_type_survive_every_evaluation_path",
            ((jsonata_validations, "_validate_null_output", _nothing_is_refused),),
        ),
        Adaptation(
            "aws-functions",
            "AWS's own functions ($partition, $range, $hash, $random, $uuid, $parse) with AWS's"
            " semantics, and none AWS lacks ($randomSeeded, $eval)",
            f"{FIDELITY}::test_functions_aws_lacks_and_bad_arguments_fail_the_run",
            (
                (
                    string_module,
                    "get_intrinsic_functions_declarations",
                    to(_no_function_declarations),
                ),
            ),
        ),
        Adaptation(
            "javascript-arithmetic",
            "`/` and `%` compute as JavaScript does (x / 0, fractional remainders)",
            "tests/infra/test_jsonata_fidelity.py::test_division_by_zero_and_remainders_compute_as_in_aws",
            ((jsonata.Jsonata, "evaluate_numeric_expression", _js_numeric),),
        ),
        Adaptation(
            "definition-strings-as-json",
            "the definition's strings are decoded as JSON decodes them (escapes in Assign"
            " literals and expressions)",
            f"{FIDELITY}::test_variables_of_every_json_type_survive_every_evaluation_path",
            (
                (Preprocessor, "_inner_string_of", to(staticmethod(_json_string))),
                (preprocessor_module, "from_string_literal", to(_json_string)),
            ),
        ),
    ]
