"""The JSONata functions Step Functions adds, offline with AWS's semantics, and the ones it lacks.

AWS adds `$partition`, `$range`, `$hash`, `$random` (with an optional seed), `$uuid` and
`$parse` to JSONata 2.0.6 ("Transforming data with JSONata in Step Functions"). moto declares
them as JSONata text prepended to each expression: `$hash` and `$uuid` only return the text
"Function ... is currently not supported", `$random` refuses a seed, and it adds a
`$randomSeeded` AWS does not have. Here they are Python functions bound into every evaluation;
`$randomSeeded` and `$eval` (AWS: use `$parse`) are left undefined, so calling them fails offline
as it fails in AWS.

An error raised here is a JSONata evaluation error, as AWS reports it for a bad argument.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

from jsonata import jexception, utils
from jsonata.jsonata import Jsonata

HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
RANGE_LIMIT = 1000
"""AWS's States.ArrayRange gives at most 1,000 items; its JSONata `$range` holds to the same."""


class FunctionArgumentError(jexception.JException):  # type: ignore[misc]
    """A bad argument to one of AWS's functions, with AWS's function name in the message."""

    def __init__(self, message: str) -> None:
        super().__init__("D3137", 0, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _number(value: Any, function: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FunctionArgumentError(f"{function}: {name} must be a number, not {value!r}")
    return value


def _integer(value: Any, function: str, name: str) -> int:
    number = _number(value, function, name)
    if number != int(number):
        raise FunctionArgumentError(f"{function}: {name} must be an integer, not {value!r}")
    return int(number)


def _array(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def partition(array: Any, size: Any) -> list[list[Any]]:
    """`$partition(array, chunkSize)`: the array in chunks of `size` (the last may be shorter)."""
    chunk = _integer(size, "$partition", "the chunk size")
    if chunk < 1:
        raise FunctionArgumentError(f"$partition: the chunk size must be positive, not {size!r}")
    items = _array(array)
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def range_of(start: Any, end: Any, step: Any) -> list[Any]:
    """`$range(start, end, step)`: from start to end inclusive, by step (negative counts down)."""
    first = _number(start, "$range", "the start")
    last = _number(end, "$range", "the end")
    by = _number(step, "$range", "the step")
    if by == 0:
        raise FunctionArgumentError("$range: the step must not be 0")
    if (by > 0 and first > last) or (by < 0 and first < last):
        return []
    count = math.floor((last - first) / by + 1e-9) + 1
    if count > RANGE_LIMIT:
        raise FunctionArgumentError(
            f"$range: {count} values; Step Functions gives at most {RANGE_LIMIT}"
        )
    return [utils.Utils.convert_number(first + i * by) for i in range(count)]


def hash_of(value: Any, algorithm: Any) -> str:
    """`$hash(value, algorithm)`: the hex digest of a string (MD5, SHA-1, SHA-256, SHA-384,
    SHA-512)."""
    if not isinstance(value, str):
        raise FunctionArgumentError(f"$hash: the value must be a string, not {value!r}")
    name = HASH_ALGORITHMS.get(str(algorithm))
    if name is None:
        raise FunctionArgumentError(
            f"$hash: the algorithm must be one of {', '.join(HASH_ALGORITHMS)}, not {algorithm!r}"
        )
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def random_number(seed: Any = None) -> float:
    """`$random([seed])`: a number from 0 (included) to 1 (excluded); the same seed, the same
    number."""
    if seed is None:
        return random.random()
    return random.Random(_integer(seed, "$random", "the seed")).random()


def new_uuid() -> str:
    """`$uuid()`: a version 4 UUID."""
    return str(uuid.uuid4())


def parse(text: Any) -> Any:
    """`$parse(jsonString)`: the JSON value a string holds."""
    if not isinstance(text, str):
        raise FunctionArgumentError(f"$parse: the value must be a string, not {text!r}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FunctionArgumentError(f"$parse: not JSON ({error.msg})") from error


_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    "partition": partition,
    "range": range_of,
    "hash": hash_of,
    "random": random_number,
    "uuid": new_uuid,
    "parse": parse,
}
UNDEFINED = ("eval", "randomSeeded")
"""Names AWS's JSONata does not define (moto's `$randomSeeded`; `$eval`, for which AWS has
`$parse`): bound to nothing, so calling one fails as calling any undefined function does."""


def bindings() -> dict[str, Any]:
    """What every offline evaluation is given besides its variables (a fresh dict each time)."""
    functions: dict[str, Any] = {n: Jsonata.JLambda(f) for n, f in _IMPLEMENTATIONS.items()}
    return {**functions, **dict.fromkeys(UNDEFINED)}
