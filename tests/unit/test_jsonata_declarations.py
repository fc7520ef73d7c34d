"""JSONata variables offline (baton.local.seams.jsonata_evaluation): their values are kept aside
as bindings, as JSON would give them back, and moto's text of them is written only when an
expression has to be evaluated as text."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import moto.stepfunctions.parser.asl.jsonata.jsonata as moto_jsonata

from baton.local.seams.jsonata_evaluation import _as_json, _composing, _encoding


def _through_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_a_value_is_kept_as_json_gives_it_back() -> None:
    values = [
        {"text": 'a "quoted" \\ line\n', "n": 3, "x": 1.5, "big": 10**30, "t": True, "none": None},
        [1, [2, {"deep": ["é", "\u2028"]}], {}],
        -0.0,
        (1, 2),  # a tuple: a list, as JSON has no tuple
        {1: "a", "b": 2},  # a key that is not text: as JSON writes it
        {"when": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},  # a date: its text
    ]
    for value in values:
        kept = _as_json(value)
        assert kept == _through_json(value)
        assert json.dumps(kept) == json.dumps(_through_json(value))  # same types, same order
    nan = _as_json({"v": math.nan, "inf": math.inf})
    assert math.isnan(nan["v"]) and nan["inf"] == math.inf


def test_a_kept_value_is_a_copy() -> None:
    value = {"list": [1, {"a": 2}]}
    kept = _as_json(value)
    kept["list"][1]["a"] = 3
    assert value == {"list": [1, {"a": 2}]}


def test_declarations_are_written_only_when_an_expression_is_evaluated_as_text() -> None:
    written: list[dict[str, Any]] = []

    def moto_text(bindings: dict[str, Any]) -> str:
        written.append(bindings)
        return moto_jsonata.encode_jsonata_variable_declarations(bindings)

    encode = _encoding(moto_text)
    compose = _composing(moto_jsonata.compose_jsonata_expression)
    declared = encode({"$x": 1, "$s": 'say "hi"'})
    composed = compose("$x + 1", [declared, ""])  # declarations only: values as bindings
    assert composed.bindings == {"x": 1, "s": 'say "hi"'}  # type: ignore[attr-defined]
    assert written == []
    function = "$f:=function(){1};"  # a part that cannot be taken apart: text it is
    text = compose("$f() + $x", [function, declared])
    assert text == moto_jsonata.compose_jsonata_expression(
        "$f() + $x",
        [function, moto_jsonata.encode_jsonata_variable_declarations({"$x": 1, "$s": 'say "hi"'})],
    )
    assert len(written) == 1
