"""Alertmanager (webhook v4) and Grafana webhook payloads, validated into one shape.

Every rejection names the field, so whoever configured the sender can fix it from the 400 alone.
Neither source retries a 4xx, so nothing is refused for its size alone: any number of alerts is
taken (storage keeps what fits and counts the rest), and a group key of any length (it grows with
the group's labels) is stored by its hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PUSHED = "alertmanager"  # groups Alertmanager sent to IRIS's webhook
PULLED = "alertmanager-api"  # groups polled from Alertmanager's API (alerts.pull), not sent to a webhook
SOURCES = (PUSHED, "grafana", PULLED)
STATUSES = ("firing", "resolved")
MAX_TEXT = 20_000  # characters of one label or annotation value
MAX_NAME = 1000  # characters of one label or annotation name
MAX_COUNT = 2**31 - 1  # truncatedAlerts: what an INTEGER column holds
# NUL cannot be stored in PostgreSQL text, an unpaired surrogate cannot be encoded as UTF-8: both
# arrive as JSON escapes ("\u0000", "\ud800") and are kept as U+FFFD instead of failing the group.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: "no end yet"


class PayloadError(ValueError):
    """The payload is not what the source documents; `field` is its JSON path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class IncomingAlert:
    fingerprint: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: str


@dataclass(frozen=True)
class Notification:
    """One webhook call: a group's current alerts, whichever source sent it."""

    source: str
    group_key: str
    receiver: str
    status: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    external_url: str
    alerts: list[IncomingAlert]
    truncated: int = 0


def parse_notification(source: str, body: bytes) -> Notification:
    """Decode and validate a webhook body from `source` (one of SOURCES)."""
    if source not in SOURCES:
        raise ValueError(f"unknown alert source {source!r}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("body", "is not valid JSON") from None
    except RecursionError:
        raise PayloadError("body", "is nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError("body", "must be a JSON object")
    return notification_from(source, data)


def notification_from(source: str, data: dict[str, Any]) -> Notification:
    """Validate an already decoded payload (a webhook's, or one built from Alertmanager's API)."""
    if source == PUSHED and str(data.get("version", "")) != "4":
        raise PayloadError("version", 'must be "4" (Alertmanager webhook payload version 4)')
    alerts = _list(data, "alerts")
    return Notification(
        source=source,
        group_key=_text(data, "groupKey", "body", required=True, limit=None),
        receiver=_text(data, "receiver", "body"),
        status=_status(data, "status", "body"),
        group_labels=_labels(data, "groupLabels", "body"),
        common_labels=_labels(data, "commonLabels", "body"),
        external_url=_text(data, "externalURL", "body"),
        alerts=_alerts(alerts),
        truncated=_count(data, "truncatedAlerts"),
    )


def _alerts(items: list[Any]) -> list[IncomingAlert]:
    """Each alert once: a fingerprint seen twice in one call is ambiguous, and refused rather than guessed."""
    seen: dict[str, int] = {}
    alerts = []
    for i, item in enumerate(items):
        alert = _alert(item, f"alerts[{i}]")
        if alert.fingerprint in seen:
            first = seen[alert.fingerprint]
            raise PayloadError(f"alerts[{i}].fingerprint", f"repeats the fingerprint of alerts[{first}]")
        seen[alert.fingerprint] = i
        alerts.append(alert)
    return alerts


def _alert(item: Any, where: str) -> IncomingAlert:
    if not isinstance(item, dict):
        raise PayloadError(where, "must be an object")
    labels = _labels(item, "labels", where)
    fingerprint = _text(item, "fingerprint", where) or fingerprint_of(labels)
    if len(fingerprint) > 64:
        raise PayloadError(f"{where}.fingerprint", "must be at most 64 characters")
    return IncomingAlert(
        fingerprint=fingerprint,
        status=_status(item, "status", where),
        labels=labels,
        annotations=_labels(item, "annotations", where),
        starts_at=_time(item, "startsAt", where),
        ends_at=_time(item, "endsAt", where),
        generator_url=_text(item, "generatorURL", where),
    )


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable id for an alert that came without one (only very old senders omit it)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise PayloadError(key, "must be a list of alerts")
    if not value:  # no source sends one; stored, it would post an empty group to Slack
        raise PayloadError(key, "must hold at least one alert")
    return value


def _text(
    data: dict[str, Any], key: str, where: str, *, required: bool = False, limit: int | None = MAX_TEXT
) -> str:
    value = data.get(key)
    path = key if where == "body" else f"{where}.{key}"
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise PayloadError(path, "must be a non-empty string" if required else "must be a string")
    if limit is not None and len(value) > limit:
        raise PayloadError(path, f"is longer than {limit} characters")
    return storable(value)


def storable(text: str) -> str:
    """The text with what no database column can hold (NUL, unpaired surrogates) made U+FFFD."""
    return UNSTORABLE.sub("\ufffd", text)


def _status(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value not in STATUSES:
        path = key if where == "body" else f"{where}.{key}"
        raise PayloadError(path, 'must be "firing" or "resolved"')
    return str(value)


def _labels(data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = data.get(key, {})
    path = key if where == "body" else f"{where}.{key}"
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(path, "must be an object of string values")
    for name, text in value.items():
        where_name = f"{path}.{_shortened(name)}"
        if len(name) > MAX_NAME:
            raise PayloadError(where_name, f"is a name longer than {MAX_NAME} characters")
        if not isinstance(text, str):
            raise PayloadError(where_name, "must be a string")
        if len(text) > MAX_TEXT:
            raise PayloadError(where_name, f"is longer than {MAX_TEXT} characters")
    return {storable(name): storable(text) for name, text in value.items()}


def _shortened(name: str) -> str:
    """A name as an error quotes it: enough to find it, never the whole of a huge one."""
    return name if len(name) <= 100 else f"{name[:100]}…"


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise PayloadError(key, f"must be an integer from 0 to {MAX_COUNT}")
    return value


def parse_time(value: Any, where: str) -> datetime | None:
    """An RFC 3339 time as Alertmanager writes it (nanoseconds, Go's zero time for "none")."""
    return _time({"time": value}, "time", where)


def _time(data: dict[str, Any], key: str, where: str) -> datetime | None:
    value = data.get(key)
    if value in (None, "", ZERO_TIME) or (isinstance(value, str) and value.startswith("0001-01-01")):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key}", "must be an RFC 3339 time string")
    try:
        moment = datetime.fromisoformat(_trim_fraction(value.replace("Z", "+00:00")))
    except ValueError:
        raise PayloadError(f"{where}.{key}", "must be an RFC 3339 time like 2024-12-12T07:00:00Z") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{where}.{key}", "must carry a time zone offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last day Python can hold in UTC
        raise PayloadError(f"{where}.{key}", "is outside the years 1 to 9999 in UTC") from None


def _trim_fraction(value: str) -> str:
    """Go writes nanoseconds; Python reads at most microseconds."""
    if "." not in value:
        return value
    head, _, rest = value.partition(".")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
