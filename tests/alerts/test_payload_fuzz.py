"""Fuzzing the webhook payload model: whatever the body, a PayloadError or a notification every
database stores (SQLite and PostgreSQL), never another exception.

Bounded: IRIS_FUZZ_EXAMPLES examples per test (default 150), no deadline per example.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from bot.alerts.payload import Notification, PayloadError, parse_notification
from storage import alerts as repo
from storage.db import session_scope
from tests.alerts.test_repo import payload

EXAMPLES = int(os.environ.get("IRIS_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

# Characters that broke or could break a column: NUL, unpaired surrogates, bidi overrides, astral.
AWKWARD = st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e", "\U0001f6a8", "\\", '"', "%", "'"])
# Joined by hand: st.text() leaves surrogates out, and they are what a JSON escape can bring in.
TEXT = st.lists(st.one_of(AWKWARD, st.characters()), max_size=40).map("".join) | st.sampled_from(
    ["", "firing", "resolved", "4", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "x" * 3000]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
FIELDS = [
    "receiver",
    "status",
    "groupKey",
    "groupLabels",
    "commonLabels",
    "externalURL",
    "version",
    "truncatedAlerts",
]
ALERT_FIELDS = ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"]


def outcome(source: str, body: bytes) -> Notification | None:
    """The notification, or None for a PayloadError; anything else fails the test."""
    try:
        return parse_notification(source, body)
    except PayloadError as error:
        assert error.field and error.reason and len(error.field) < 400
        return None


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_are_a_payload_error_or_a_notification(body: bytes) -> None:
    outcome("grafana", body)


@FUZZ
@given(value=JSON)
def test_any_json_value_is_a_payload_error_or_a_notification(value: Any) -> None:
    outcome("alertmanager", json.dumps(value).encode())


@pytest.mark.parametrize("source", ["alertmanager", "grafana"])
@FUZZ
@given(
    top=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=3),
    alert=st.dictionaries(st.sampled_from(ALERT_FIELDS), JSON, max_size=3),
    labels=st.dictionaries(TEXT, TEXT, max_size=4),
    group_key=TEXT,
)
def test_a_notification_that_parses_is_stored_on_every_database(
    source: str,
    engine: Engine,
    top: dict[str, Any],
    alert: dict[str, Any],
    labels: dict[str, str],
    group_key: str,
) -> None:
    """A valid payload with some fields replaced by anything: whatever parses must store, twice."""
    data = payload()
    data["groupKey"] = group_key or data["groupKey"]
    data["alerts"][0]["labels"] |= labels
    data["alerts"][0] |= alert
    data |= top
    note = outcome(source, json.dumps(data).encode())
    if note is None:
        return
    for _ in range(2):  # the repeat finds the same group, whatever its key
        with session_scope(engine) as session:
            stored = repo.ingest(session, note, "C0INC", None, NOW)
    assert stored.alerts == len(note.alerts)
