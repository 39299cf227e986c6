"""The length corpus (tests/fixtures/bad_input/lengths.json): hostile values and each field's longest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "bad_input" / "lengths.json").read_text(encoding="utf-8")
)


def value(case: dict[str, Any]) -> str:
    """A corpus value: its `text`, or `repeat` written `times` times."""
    return str(case["text"]) if "text" in case else str(case["repeat"]) * int(case["times"])


def longest(field: str) -> str:
    """The longest value `field` admits: IRIS stores it whole."""
    return value(CORPUS["longest"][field])


def over(field: str) -> str:
    """One character more than `field` admits: IRIS answers with a sentence and stores nothing."""
    spec = CORPUS["longest"][field]
    return value(spec) + str(spec["repeat"])
