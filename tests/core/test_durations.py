"""Durations: what people write in scenario files, and how figures are written back for them."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from bot.durations import Duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("250ms", 0.25),
        ("2ms", 0.002),
        ("0s", 0.0),
        ("1s", 1.0),
        ("1.5s", 1.5),
        ("3m30s", 210.0),
        ("10m", 600.0),
        ("1.5m", 90.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h2m3s4ms", 3723.004),
        (" 30s ", 30.0),
        ("30", 30.0),
        ("0.5", 0.5),
        (7, 7.0),
        (0.02, 0.02),
        (0, 0.0),
        ("-0s", 0.0),
    ],
)
def test_durations_parse_to_seconds(given: str | int | float, seconds: float) -> None:
    assert parse_duration(given) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "given",
    [
        "3x",
        "",
        "s",
        "ms",
        "1 s",
        "1s1m",
        "1h1h",
        "1m30",
        "ten seconds",
        "nan",
        "inf",
        "-",
        "1,5s",
        True,
    ],
)
def test_garbage_is_not_a_duration(given: str | bool) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(given)
    assert str(caught.value) == f"{given!r} is not a duration such as 250ms, 30s, 3m30s or 1h"


@pytest.mark.parametrize("given", ["-1s", "-250ms", "-3", -1, -0.5])
def test_negative_durations_are_refused(given: str | int | float) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(given)
    assert str(caught.value) == f"{given!r} is negative; a duration is 0 or more"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.02, "0.02 s"),
        (2, "2.00 s"),
        (59.5, "59.50 s"),
        (0, "0.00 s"),
        (59.999, "1 min 00 s"),  # rounds up past a minute rather than showing "60.00 s"
        (60, "1 min 00 s"),
        (185, "3 min 05 s"),
        (185.4, "3 min 05 s"),
        (3599.6, "1 h 00 min"),
        (3720, "1 h 02 min"),
        (90000, "25 h 00 min"),
        (-0.5, "-0.50 s"),
    ],
)
def test_durations_are_formatted_for_people(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


class _Timed(BaseModel):
    wait: Duration = 5.0


@pytest.mark.parametrize(("given", "seconds"), [("3m30s", 210.0), (12, 12.0), ("250ms", 0.25), (1.5, 1.5)])
def test_the_duration_field_type_stores_seconds(given: str | float, seconds: float) -> None:
    stored = _Timed(wait=given).wait  # type: ignore[arg-type]
    assert isinstance(stored, float) and stored == seconds


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("3x", "'3x' is not a duration such as 250ms, 30s, 3m30s or 1h"),
        ("-2s", "'-2s' is negative; a duration is 0 or more"),
        ([1], "must be a duration such as 250ms, 30s, 3m30s or 1h"),
        (None, "must be a duration such as 250ms, 30s, 3m30s or 1h"),
    ],
)
def test_the_duration_field_type_explains_bad_input(given: object, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Timed(wait=given)  # type: ignore[arg-type]
    assert caught.value.errors()[0]["msg"] == f"Value error, {reason}"
