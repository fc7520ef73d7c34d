"""Hostile and malformed definition files: each gets its exact, reviewed message (golden file)
and nothing a file holds can crash, hang or exhaust the loader (fuzzed with hypothesis)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.compiler.asl import compile_workflow
from baton.definition.exceptions import DefinitionError
from baton.definition.loader import load_registry
from baton.definition.source import MAX_FILE_BYTES, decode, parse_text, read_document
from baton.definition.validation import check_workflow
from tests.definitions.malformed_cases import MALFORMED, problems_of

EXPECTED = yaml.safe_load((MALFORMED / "expected.yaml").read_text())
CASES = sorted(p for p in MALFORMED.iterdir() if p.name != "expected.yaml")


def test_there_are_at_least_40_malformed_cases_each_with_a_golden_message():
    assert len(CASES) >= 40
    assert sorted(EXPECTED) == [p.name for p in CASES]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_each_malformed_definition_gets_its_message_quickly(path: Path):
    started = time.perf_counter()
    assert problems_of(path) == EXPECTED[path.name]
    assert time.perf_counter() - started < 2


def test_yaml_is_read_as_yaml_1_2_so_on_yes_and_dates_stay_text():
    document = parse_text(
        "id: yes\nname: 2024-01-01\nagents: [login]\ntriggers:\n  - {on: completed, workflow: x}\n",
        "w.yaml",
    )
    assert document.data == {
        "id": "yes",
        "name": "2024-01-01",
        "agents": ["login"],
        "triggers": [{"on": "completed", "workflow": "x"}],
    }
    assert parse_text("a: true\nb: False\nc: off\n", "f.yaml").data == {
        "a": True,
        "b": False,
        "c": "off",
    }


def test_a_file_over_a_mebibyte_is_not_read_at_all(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(DefinitionError) as caught:
        read_document(big)
    assert str(caught.value) == f"{big}: the file is over 1,048,576 bytes, a definition's most"


def test_a_utf8_byte_order_mark_is_accepted():
    assert decode(b"\xef\xbb\xbfid: x\n", "f.yaml") == "id: x\n"


REGISTRY = load_registry()
VALID = (
    MALFORMED.parent.parent.parent / "statemachines" / "competitor-monitoring.yaml"
).read_text()

TOKENS = [
    "null",
    "~",
    ".nan",
    ".inf",
    "-.inf",
    "yes",
    "on",
    "0x1F",
    "0o17",
    "1e309",
    "2024-01-01",
    "&a x",
    "*a",
    "!!binary aGk=",
    "!Ref X",
    "'''",
    '"\\ud800"',
    "[",
    "{",
    "- -",
    ": :",
    "?",
    "|",
    ">-",
    "%YAML 1.1",
    "---",
    "...",
    "\t",
    "NaN",
    "Infinity",
    "12:30:00",
    "!!set {a}",
    "!!python/name:os.system",
    "<<: *a",
    "\x00",
    "\ufeff",
]
yaml_text = st.recursive(
    st.one_of(
        st.sampled_from(TOKENS),
        st.text(max_size=40),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=6).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.text(max_size=12), children), max_size=6).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.lists(children, max_size=6).map(lambda xs: "\n".join(f"- {x}" for x in xs)),
    ),
    max_leaves=40,
)


def mutations(text: str) -> st.SearchStrategy[str]:
    """A valid definition with a slice replaced, duplicated or cut."""
    return st.tuples(
        st.integers(0, len(text)), st.integers(0, 200), st.one_of(yaml_text, st.text(max_size=60))
    ).map(lambda t: text[: t[0]] + t[2] + text[t[0] + t[1] :])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=st.one_of(
        yaml_text,
        mutations(VALID),
        st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map(
            lambda xs: "\n".join(f"k{i}: {x}" for i, x in enumerate(xs))
        ),
        st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    ),
    suffix=st.sampled_from([".yaml", ".json"]),
)
def test_the_loader_never_crashes_hangs_or_balloons(text: str, suffix: str):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        document = parse_text(text, f"fuzz{suffix}")
        workflow, problems = check_workflow(document, REGISTRY)  # returned, never raised
        assert (workflow is None) == bool(problems)
        if workflow is not None:
            compile_workflow(workflow)
    except DefinitionError as error:
        assert error.problems and all(str(p) for p in error.problems)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 500 * 1024 * 1024
