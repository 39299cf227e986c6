"""Alertmanager pull mode: iris.yml's `alerts.pull`, and API v2 alert groups made into Notifications.

The notifications are the ones a webhook would bring (validated by the same code), so polled groups
get the same messages, routes, threads and buttons. They carry their own source (PULLED): a polled
group cannot be matched with a webhook's (the webhook's groupKey holds the route's path, which the
API does not give), and only the poll may resolve what is absent from the poll.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from bot.alerts.payload import PULLED, IncomingAlert, Notification, PayloadError, notification_from
from bot.config import Section
from bot.durations import Duration

# Alertmanager's own matcher syntax, as `amtool` and its API's `filter` take it: name, operator, value.
MATCHER = re.compile(r'^\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^"\s]*)\s*$')
MIN_EVERY_S, MAX_EVERY_S = 1.0, 3600.0


class PullConfig(BaseModel):
    """`alerts.pull`: poll this Alertmanager instead of waiting for its webhook."""

    model_config = ConfigDict(extra="forbid")

    url: str
    every: Duration = 15.0
    filter: list[str] = []
    receiver: str | None = None  # a regular expression on receiver names, as Alertmanager's API takes it
    # After Alertmanager (re)starts it knows no alerts until Prometheus sends them again (its resend
    # delay is a minute): absent alerts are only resolved once it has been up this long.
    warmup: Duration = 120.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL such as http://alertmanager:9093")
        return value if value.endswith("/") else value + "/"

    @field_validator("every")
    @classmethod
    def _every(cls, value: float) -> float:
        if not MIN_EVERY_S <= value <= MAX_EVERY_S:
            raise ValueError("must be from 1s to 1h")
        return value

    @field_validator("filter")
    @classmethod
    def _matchers(cls, matchers: list[str]) -> list[str]:
        for matcher in matchers:
            if not MATCHER.match(matcher):
                raise ValueError(
                    f'{matcher!r} is not a matcher such as severity="critical" or team=~"db|web"'
                )
        return matchers


class AlertsConfig(BaseModel):
    """iris.yml's `alerts:` section."""

    model_config = ConfigDict(extra="forbid")

    pull: PullConfig | None = None


ALERTS: Section[AlertsConfig] = Section("alerts", AlertsConfig, AlertsConfig)


@dataclass(frozen=True)
class StoredGroup:
    """A polled group IRIS holds as firing, with its firing alerts: what the next poll is compared with."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    firing: list[IncomingAlert]


@dataclass(frozen=True)
class Polled:
    notifications: list[Notification]
    problems: list[str]  # groups left out, each with the reason (for the log)


def shown_url(url: str) -> str:
    """The URL as logs and status show it: without a user or password (credentials belong in headers)."""
    return re.sub(r"^(\w+://)[^/@]*@", r"\1", url)


def group_key(receiver: str, labels: dict[str, str]) -> str:
    """Stable per Alertmanager group, like its own groupKey: the receiver and the group's labels."""
    shown = ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in sorted(labels.items())
    )
    return f"{json.dumps(receiver, ensure_ascii=False)}:{{{shown}}}"


def polled_notifications(
    answer: Any, stored: dict[str, StoredGroup], external_url: str, now: datetime, *, resolve_absent: bool
) -> Polled:
    """One notification per group in Alertmanager's answer, plus the resolution of what is gone.

    A stored firing alert missing from its group, and a stored firing group missing from the answer,
    become resolved, unless `resolve_absent` is False (Alertmanager has only just started). A group
    Alertmanager describes wrongly is left out (named in `problems`), and then no group is resolved
    for being absent: it might be that one.
    PayloadError when the answer is not a list of groups at all.
    """
    problems: list[str] = []
    shaped = _webhook_shaped(answer, external_url, problems)
    notes = []
    for key, data in shaped.items():
        try:
            note = _firing_now(notification_from(PULLED, data), now)
        except PayloadError as exc:
            problems.append(f"group {key}: {exc}")
            continue
        notes.append(_with_absent_resolved(note, stored.get(key), now) if resolve_absent else note)
    # A group that could not be read may be one IRIS holds: nothing is resolved as absent then.
    if resolve_absent and not problems:
        notes += [
            _all_resolved(group, external_url, now) for key, group in stored.items() if key not in shaped
        ]
    return Polled(notes, problems)


def _webhook_shaped(answer: Any, external_url: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    """Each API group as the webhook's JSON would hold it; groups of one key (two routes) merged."""
    if not isinstance(answer, list):
        raise PayloadError("body", "must be a list of alert groups")
    shaped: dict[str, dict[str, Any]] = {}
    for i, group in enumerate(answer):
        receiver = group.get("receiver") if isinstance(group, dict) else None
        name = receiver.get("name") if isinstance(receiver, dict) else None
        labels = group.get("labels") if isinstance(group, dict) else None
        alerts = group.get("alerts") if isinstance(group, dict) else None
        if not isinstance(name, str) or not isinstance(labels, dict) or not isinstance(alerts, list):
            problems.append(f"groups[{i}]: needs receiver.name, labels and alerts")
            continue
        if not all(isinstance(value, str) for value in labels.values()):
            problems.append(f"groups[{i}].labels: must be an object of string values")
            continue
        key = group_key(name, labels)
        data = shaped.setdefault(key, _group_data(key, name, labels, external_url))
        known = {_fingerprint(a) for a in data["alerts"]}
        data["alerts"].extend(_alert_data(a) for a in alerts if _fingerprint(a) not in known)
    for data in shaped.values():
        data["commonLabels"] = _common(
            [a.get("labels") if isinstance(a, dict) else None for a in data["alerts"]]
        )
    return {key: data for key, data in shaped.items() if data["alerts"]}


def _group_data(key: str, receiver: str, labels: dict[str, str], external_url: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": key,
        "receiver": receiver,
        "status": "firing",
        "groupLabels": labels,
        "externalURL": external_url,
        "alerts": [],
    }


def _alert_data(alert: Any) -> Any:
    """The webhook's alert fields; anything else the API adds (status.state, receivers) is not needed:
    active, suppressed and unprocessed alerts all fire, as IRIS shows silences on the group itself."""
    if not isinstance(alert, dict):
        return alert  # refused, with its place named, by the payload's validation
    fields = ("labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")
    return {"status": "firing", **{name: alert[name] for name in fields if name in alert}}


def _fingerprint(alert: Any) -> Any:
    return alert.get("fingerprint") if isinstance(alert, dict) else None


def _common(label_sets: list[Any]) -> dict[str, str]:
    """The labels every alert carries with one value, as Alertmanager's commonLabels."""
    sets = [labels for labels in label_sets if isinstance(labels, dict)]
    if not sets or len(sets) != len(label_sets):
        return {}
    first, *rest = sets
    return {k: v for k, v in first.items() if isinstance(v, str) and all(o.get(k) == v for o in rest)}


def _firing_now(note: Notification, now: datetime) -> Notification:
    """An alert whose endsAt has passed is resolved, as Alertmanager itself decides."""
    alerts = [
        replace(a, status="resolved") if a.ends_at is not None and a.ends_at <= now else a
        for a in note.alerts
    ]
    return replace(note, alerts=alerts, status=_status_of(alerts))


def _with_absent_resolved(note: Notification, stored: StoredGroup | None, now: datetime) -> Notification:
    if stored is None:
        return note
    reported = {alert.fingerprint for alert in note.alerts}
    gone = [_resolved(alert, now) for alert in stored.firing if alert.fingerprint not in reported]
    alerts = [*note.alerts, *gone]
    return replace(note, alerts=alerts, status=_status_of(alerts))


def _all_resolved(group: StoredGroup, external_url: str, now: datetime) -> Notification:
    return Notification(
        source=PULLED,
        group_key=group.group_key,
        receiver=group.receiver,
        status="resolved",
        group_labels=group.group_labels,
        common_labels=group.common_labels,
        external_url=external_url,
        alerts=[_resolved(alert, now) for alert in group.firing],
    )


def _resolved(alert: IncomingAlert, now: datetime) -> IncomingAlert:
    return replace(alert, status="resolved", ends_at=now)


def _status_of(alerts: list[IncomingAlert]) -> str:
    return "firing" if any(alert.status == "firing" for alert in alerts) else "resolved"
