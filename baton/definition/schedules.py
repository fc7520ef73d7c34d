"""Schedule expressions as EventBridge Scheduler takes them, checked before deployment.

- `rate(<n> <unit>)`: n ≥ 1, unit minute(s) / hour(s) / day(s), singular exactly when n is 1;
- `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`: six fields, one of
  day-of-month and day-of-week is `?` (and only one);
- `at(yyyy-mm-ddThh:mm:ss)`: once.
A timezone is an IANA name (default UTC).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
# field name, lowest, highest, names allowed, special characters allowed
_FIELDS = (
    ("minutes", 0, 59, "", ",-*/"),
    ("hours", 0, 23, "", ",-*/"),
    ("day-of-month", 1, 31, "", ",-*?/LW"),
    ("month", 1, 12, _MONTHS, ",-*/"),
    ("day-of-week", 1, 7, _DAYS, ",-*?/L#"),
    ("year", 1970, 2199, "", ",-*/"),
)


def expression_problem(expression: str) -> str | None:
    """Why Scheduler would refuse the expression, or None."""
    text = expression.strip()
    if rate := _RATE.match(text):
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "a rate must be at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return f"write rate({value} {unit.rstrip('s') + ('' if value == 1 else 's')})"
        return None
    if at := _AT.match(text):
        try:
            datetime.fromisoformat(at.group(1))
        except ValueError:
            return f"{at.group(1)} is not a date and time"
        return None
    if cron := _CRON.match(text):
        return _cron_problem(cron.group(1).split())
    return (
        f"{expression!r} is not a schedule expression: write rate(5 minutes), "
        "cron(0 9 ? * MON-FRI *) or at(2026-12-01T09:00:00)"
    )


def _cron_problem(fields: list[str]) -> str | None:
    if len(fields) != 6:
        return (
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week "
            f"year), this one has {len(fields)}"
        )
    for value, (name, low, high, names, specials) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(value, name, low, high, names, specials)
        if problem:
            return problem
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def _field_problem(
    value: str, name: str, low: int, high: int, names: str, specials: str
) -> str | None:
    token = re.compile(
        rf"^(\d+|{names}|[{re.escape(specials)}])$"
        if names
        else rf"^(\d+|[{re.escape(specials)}])$"
    )
    for part in re.split(r"[,\-/#]", value):
        if part in ("", "L", "W", "LW") or (part.endswith(("L", "W")) and part[:-1].isdigit()):
            continue
        if not token.match(part):
            return f"cron {name}: {value!r} is not a valid value"
        if part.isdigit() and not low <= int(part) <= high and "/" not in value:
            return f"cron {name}: {part} is outside {low}-{high}"
    return None


def timezone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a timezone: use an IANA name such as Europe/Paris or UTC"
    return None
