"""What the lifecycle accepts from any caller (API, CLI, triggers, schedules): tenant names,
execution ids, idempotency keys and run input, each refused with the field and the rule.

No accepted name contains `#`, the separator of the table's keys, so one tenant's keys can never
be spelled from another's (`acme` + `corp#x` is not a tenant and an id).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from baton_service.exceptions import InvalidInputError
from baton_service.tenants import TENANT_SYNTAX, is_tenant

EXECUTION_ID = re.compile(r"^exec_\d{1,16}_[0-9a-z]{9}$")
EXECUTION_ID_SYNTAX = "exec_<milliseconds>_<9 lowercase letters or digits>"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:@=+-]{0,199}$")
IDEMPOTENCY_KEY_SYNTAX = "1 to 200 letters, digits or _ . : @ = + -, not starting with a symbol"
MAX_INPUT_BYTES = 262_144
"""Step Functions accepts at most 256 KiB of input for a run (UTF-8 bytes of the JSON)."""
MAX_INPUT_DEPTH = 64


def check_tenant(tenant: object) -> str:
    if not is_tenant(tenant):
        raise InvalidInputError("tenant", f"{shown(tenant)} is not a tenant name: {TENANT_SYNTAX}")
    return str(tenant)


def check_execution_id(execution_id: object) -> str:
    if not isinstance(execution_id, str) or not EXECUTION_ID.match(execution_id):
        raise InvalidInputError(
            "executionId", f"{shown(execution_id)} is not an execution id: {EXECUTION_ID_SYNTAX}"
        )
    return execution_id


def check_idempotency_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise InvalidInputError(
            "idempotencyKey", f"{shown(key)} is not an idempotency key: {IDEMPOTENCY_KEY_SYNTAX}"
        )
    return key


MAX_PAGE = 100


def check_page_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError("limit", f"{shown(limit)} is not a page size: 1 to {MAX_PAGE}")
    return limit


def check_run_input(data: object) -> dict[str, Any]:
    """The run's input data: a JSON object of JSON values, numbers finite (no NaN/Infinity)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidInputError("input", f"must be a JSON object, not {_json_type(data)}")
    _check_value(data, "input", 0)
    return dict(data)


def check_run_size(size: int) -> None:
    if size > MAX_INPUT_BYTES:
        raise InvalidInputError(
            "input",
            f"the run's input would be {size:,} bytes; Step Functions accepts at most "
            f"{MAX_INPUT_BYTES:,} (put large data in S3 and pass a reference)",
        )


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_INPUT_DEPTH:
        raise InvalidInputError(where, f"nests deeper than {MAX_INPUT_DEPTH} levels")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(where, f"has a key {key!r} that is not a string")
            _check_value(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(where, f"is {value!r}: JSON numbers are finite")
    elif not (value is None or isinstance(value, str | int)):  # bool is an int
        raise InvalidInputError(where, f"is {_json_type(value)}, not a JSON value")


def _json_type(value: object) -> str:
    names = {list: "an array", tuple: "an array", str: "a string", bool: "a boolean"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), f"a {type(value).__name__}")


def shown(value: object) -> str:
    """A value as an error message quotes it: its repr, cut at 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
