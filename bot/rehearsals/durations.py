"""Durations as people write them in scenario files (250ms, 3m30s, 1h) and as they read them back."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

# Units in the only order people write them; each may appear once ("3m30s", not "30s3m").
_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+(?:\.\d+)?)ms)?"
)
_SECONDS_PER_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_EXAMPLES = "250ms, 30s, 3m30s or 1h"


def parse_duration(value: str | int | float) -> float:
    """Seconds in `value`: "250ms", "1.5s", "3m30s", "1h30m", or a bare number of seconds."""
    if isinstance(value, bool):  # bool is an int, but `cooldown: true` is surely a mistake
        raise ValueError(f"{value!r} is not a duration such as {_EXAMPLES}")
    if isinstance(value, int | float):
        return _non_negative(float(value), value)
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = _parse_units(text, value)
    return _non_negative(seconds, value)


def _parse_units(text: str, original: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0  # so "-1s" is called negative, not garbage
    match = _DURATION.fullmatch(text.removeprefix("-"))
    if not text.removeprefix("-") or match is None:
        raise ValueError(f"{original!r} is not a duration such as {_EXAMPLES}")
    amounts = match.groupdict().items()
    return sign * sum(float(amount) * _SECONDS_PER_UNIT[unit] for unit, amount in amounts if amount)


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
"""A pydantic field type: accepts what parse_duration accepts and stores seconds as a float."""
