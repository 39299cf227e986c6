"""The one duration grammar of IRIS: `250ms`, `30s`, `3m30s`, `1h30m`, `2d`, in files and in Slack alike.

Units come in this order, each at most once, each with a whole or decimal amount. Files (scenarios,
iris.yml) also take a bare number as seconds, as YAML writes it; what a person types in Slack needs a
unit, because `in 30` could mean anything.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_AMOUNT = r"\d+(?:\.\d+)?"
_GRAMMAR = re.compile(
    rf"(?:(?P<d>{_AMOUNT})d)?(?:(?P<h>{_AMOUNT})h)?(?:(?P<m>{_AMOUNT})m(?!s))?"
    rf"(?:(?P<s>{_AMOUNT})s)?(?:(?P<ms>{_AMOUNT})ms)?",
    re.IGNORECASE,
)
_SECONDS_PER_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_EXAMPLES = "250ms, 30s, 3m30s or 1h"


def read_duration(text: str) -> float | None:
    """Seconds written in `text` ("-" in front makes them negative), or None when it is not a duration."""
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.removeprefix("-")
    match = _GRAMMAR.fullmatch(body)
    if not body or match is None:
        return None
    amounts = match.groupdict().items()
    return sign * sum(float(amount) * _SECONDS_PER_UNIT[unit.lower()] for unit, amount in amounts if amount)


def parse_duration(value: str | int | float) -> float:
    """A duration in a file: the grammar, or a bare number of seconds; 0 or more. ValueError otherwise."""
    if isinstance(value, bool):  # bool is an int, but `cooldown: true` is surely a mistake
        raise ValueError(f"{value!r} is not a duration such as {_EXAMPLES}")
    if isinstance(value, int | float):
        return _non_negative(float(value), value)
    try:
        seconds: float | None = float(value.strip())
    except ValueError:
        seconds = read_duration(value)
    if seconds is None:
        raise ValueError(f"{value!r} is not a duration such as {_EXAMPLES}")
    return _non_negative(seconds, value)


def _non_negative(seconds: float, original: object) -> float:
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{original!r} is not a duration such as {_EXAMPLES}")
    if seconds < 0:
        raise ValueError(f"{original!r} is negative; a duration is 0 or more")
    return seconds or 0.0  # "-0s" is a plain 0, not a negative zero that prints as "-0.00 s"


def format_duration(seconds: float) -> str:
    """For people: "0.02 s" and "59.50 s" under a minute, then "3 min 05 s", then "1 h 02 min"."""
    sign = "-" if round(seconds, 2) < 0 else ""  # -0.001 shows as "0.00 s", not "-0.00 s"
    seconds = abs(seconds)
    if round(seconds, 2) < 60:
        return f"{sign}{seconds:.2f} s"
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{sign}{minutes} min {rest:02d} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{sign}{hours} h {minutes:02d} min"


def _duration_input(value: Any) -> float:
    if not isinstance(value, str | int | float):
        raise ValueError(f"must be a duration such as {_EXAMPLES}")
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_duration_input)]
"""A pydantic field type for files: accepts what parse_duration accepts and stores seconds as a float."""
