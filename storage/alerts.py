"""Alert repository: groups by (source, groupKey), alerts by fingerprint, and every state change.

`ingest` is the webhook's whole write: one transaction that turns a notification into rows and
events, and writes nothing at all when the notification repeats what is stored. A group keeps at
most MAX_STORED_ALERTS alerts; the rest of a larger notification is counted on the group, by status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Column, Index, Table, Text, UniqueConstraint, delete, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import as_utc, utcnow
from storage.db import rows_between
from storage.outbox import OutboxMessage


class AlertTestRun(SQLModel, table=True):
    """One run of `/iris alert-test`: who started it, how, and each case's outcome (for the day's report)."""

    __tablename__ = "alert_test_run"
    __table_args__ = (
        UniqueConstraint("run_id", name="uq_alert_test_run_run_id"),
        Index("ix_alert_test_run_started_at", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=16)
    started_by: str = Field(max_length=32)
    via: str = Field(max_length=16)  # alertmanager | webhook
    started_at: datetime
    ended_at: datetime | None = None
    total: int = 0
    passed: int = 0
    skipped: int = 0
    results: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON, one object per case


class IncomingAlert(Protocol):
    """One alert of a notification as storage keeps it (bot.alerts.payload.IncomingAlert)."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def annotations(self) -> dict[str, str]: ...
    @property
    def starts_at(self) -> datetime | None: ...
    @property
    def ends_at(self) -> datetime | None: ...
    @property
    def generator_url(self) -> str: ...


class Notification(Protocol):
    """One webhook call as storage keeps it (bot.alerts.payload.Notification)."""

    @property
    def source(self) -> str: ...
    @property
    def group_key(self) -> str: ...
    @property
    def receiver(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def group_labels(self) -> dict[str, str]: ...
    @property
    def common_labels(self) -> dict[str, str]: ...
    @property
    def external_url(self) -> str: ...
    @property
    def alerts(self) -> Sequence[IncomingAlert]: ...
    @property
    def truncated(self) -> int: ...


# Alerts stored per group: a mass outage's group of thousands is counted whole, but only this many
# are kept as rows (and listed in the thread's file); the message never needs more than ten.
MAX_STORED_ALERTS = 1000


def key_hash(group_key: str) -> str:
    """What a group is found by: a group key has no length limit (it holds the group's labels), and
    PostgreSQL's btree index refuses an entry over about 2.7 kB."""
    return hashlib.sha256(group_key.encode("utf-8", "surrogatepass")).hexdigest()


def _key_hash_default(context: DefaultExecutionContext) -> str:
    """So every insert that names a group key (the tests', the benchmarks') gets its hash too."""
    return key_hash(context.get_current_parameters()["group_key"])


class AlertGroup(SQLModel, table=True):
    """One alert group as its source names it (source, groupKey), and the Slack message showing it."""

    __tablename__ = "alert_group"
    __table_args__ = (
        UniqueConstraint("source", "group_key_hash", name="uq_alert_group_source_group_key_hash"),
        Index("ix_alert_group_dirty", "dirty"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # alertmanager | grafana
    group_key: str = Field(sa_column=Column(Text, nullable=False))
    group_key_hash: str = Field(
        default=None, max_length=64, sa_column_kwargs={"default": _key_hash_default}, nullable=False
    )
    receiver: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="firing", max_length=16)  # firing | resolved
    group_labels: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    common_labels: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    external_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel: str = Field(max_length=32)
    mention: str | None = Field(default=None, max_length=32)
    message_id: int | None = None  # the outbox post showing it; no foreign key, the outbox is pruned
    dirty: bool = True  # changed since Slack was last told; the notifier clears it
    version: int = 0  # bumped by every change, so the notifier only clears what it rendered
    truncated: int = 0  # alerts the source left out of its last notification
    omitted_firing: int = 0  # alerts of its last notification beyond MAX_STORED_ALERTS, firing
    omitted_resolved: int = 0  # and resolved
    first_seen: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    acked_by: str | None = Field(default=None, max_length=32)
    acked_at: datetime | None = None
    silence_id: str | None = Field(default=None, max_length=64)
    silenced_by: str | None = Field(default=None, max_length=32)
    silenced_until: datetime | None = None

    def __init__(self, **values: Any) -> None:
        # Set here as well as by the column default: a row built as an object and dumped to a dict
        # for a bulk insert (bench/report.py) would otherwise carry an explicit NULL.
        if values.get("group_key_hash") is None and isinstance(values.get("group_key"), str):
            values["group_key_hash"] = key_hash(values["group_key"])
        super().__init__(**values)


class Alert(SQLModel, table=True):
    """One alert of a group, by fingerprint, as last reported."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint", name="uq_alert_group_id_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alert_group.id")
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=16)  # firing | resolved
    labels: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    annotations: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AlertEvent(SQLModel, table=True):
    """A state change of one alert (fired, joined, resolved, re-fired) or of the group, with its time."""

    __tablename__ = "alert_event"
    __table_args__ = (
        Index("ix_alert_event_group_id_id", "group_id", "id"),
        Index("ix_alert_event_at", "at"),  # the groups that fired on a day, for its report
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alert_group.id")
    fingerprint: str | None = Field(default=None, max_length=64)  # None for the group's own changes
    kind: str = Field(max_length=16)  # fired | joined | resolved | refired | acked | silenced | unsilenced
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))  # alertname, or who did it
    at: datetime = Field(default_factory=utcnow)
    notified: bool = False  # told in Slack (a thread reply) yet


class AlertPull(SQLModel, table=True):
    """One poll of one Alertmanager: who holds it, until when, and how its last tries went."""

    __tablename__ = "alert_pull"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(default="", max_length=200)
    lease_until: datetime
    url: str = Field(default="", sa_column=Column(Text, nullable=False))
    polled_at: datetime | None = None  # the last poll that reached Alertmanager
    failing_since: datetime | None = None  # the first failed poll of the current outage
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


FIRING, RESOLVED = "firing", "resolved"
ALERT_TABLE: Table = Alert.__table__  # type: ignore[attr-defined]
EVENT_TABLE: Table = AlertEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ingested:
    group_id: int
    changed: bool  # something Slack should be told about
    alerts: int
    omitted: int = 0  # of those, only counted: the group holds MAX_STORED_ALERTS


def dumps(value: dict[str, str]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def ingest(
    session: Session, note: Notification, channel: str, mention: str | None, now: datetime
) -> Ingested:
    group = _group_for(session, note, channel, mention, now)
    assert group.id is not None
    stored = _make_room(session, _stored_alerts(session, group.id), note.alerts)
    kept, omitted = _fitting(note.alerts, stored)
    events: list[dict[str, Any]] = []
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for alert in kept:
        row = _alert_row(group.id, alert, now)
        old = stored.get(alert.fingerprint)
        if old is None:
            new_rows.append(row)
            events.append(_event(group.id, alert, _first_kind(alert, fresh=not stored), now))
        elif _differs(old, row):
            changed_rows.append({"id": old.id, **row})
            kind = _transition(old, alert)
            if kind:
                events.append(_event(group.id, alert, kind, now))
    if new_rows:  # Core executemany: the ORM's bulk path costs more than the insert itself
        session.execute(ALERT_TABLE.insert(), new_rows)
    if changed_rows:
        session.execute(update(Alert), changed_rows)
    counts = _counts(note, omitted)
    changed = bool(new_rows or changed_rows) or counts != (
        group.truncated,
        group.omitted_firing,
        group.omitted_resolved,
    )
    if changed:
        _refresh_group(session, group, note, now, events, counts)
    if events:
        session.execute(EVENT_TABLE.insert(), events)
    return Ingested(group_id=group.id, changed=changed, alerts=len(note.alerts), omitted=len(omitted))


def _make_room(session: Session, stored: dict[str, Any], alerts: Sequence[IncomingAlert]) -> dict[str, Any]:
    """When this notification's new alerts would not fit, forget stored alerts that are resolved and
    no longer reported, oldest first: a group that lives for weeks (alerts keyed by pod churn) keeps
    its current alerts, not the first thousand it ever saw. Their events stay, by fingerprint."""
    reported = {alert.fingerprint for alert in alerts}
    new = len(reported - stored.keys())
    excess = len(stored) + new - MAX_STORED_ALERTS
    if excess <= 0:
        return stored
    gone = [
        row for fingerprint, row in stored.items() if row.status == RESOLVED and fingerprint not in reported
    ]
    forgotten = sorted(gone, key=lambda row: row.id)[:excess]
    if not forgotten:
        return stored
    ids = {row.id for row in forgotten}
    session.execute(delete(Alert).where(col(Alert.id).in_(ids)))
    return {fingerprint: row for fingerprint, row in stored.items() if row.id not in ids}


def _fitting(alerts: Sequence[IncomingAlert], stored: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The alerts to store, in the notification's order, and those only counted.

    Stored ones first (so they keep being updated: resolved, re-fired), then new firing ones, then new
    resolved ones, until the group holds MAX_STORED_ALERTS.
    """
    room = max(MAX_STORED_ALERTS - len(stored), 0)
    new = [a for a in alerts if a.fingerprint not in stored]
    if len(new) <= room:
        return list(alerts), []
    admitted = {id(a) for a in sorted(new, key=lambda a: a.status != FIRING)[:room]}  # a stable sort
    kept = [a for a in alerts if a.fingerprint in stored or id(a) in admitted]
    return kept, [a for a in new if id(a) not in admitted]


def _counts(note: Notification, omitted: list[Any]) -> tuple[int, int, int]:
    """(left out by the source, left out here and firing, left out here and resolved)."""
    firing = sum(1 for a in omitted if a.status == FIRING)
    return note.truncated, firing, len(omitted) - firing


def _stored_alerts(session: Session, group_id: int) -> dict[str, Any]:
    """What a notification is compared with, as plain rows: hydrating ORM objects costs more."""
    c = ALERT_TABLE.c
    query = select(
        c.id,
        c.fingerprint,
        c.status,
        c.starts_at,
        c.annotations,
        c.labels,  # type: ignore[call-overload]
        c.generator_url,
    ).where(c.group_id == group_id)
    return {row.fingerprint: row for row in session.execute(query)}


def _group_for(
    session: Session, note: Notification, channel: str, mention: str | None, now: datetime
) -> AlertGroup:
    """The stored group, created on first sight; concurrent first sights create it once.

    The row is locked for the transaction (PostgreSQL; SQLite has one writer anyway), so two
    notifications of one group at once (an Alertmanager HA pair sends both) are compared and stored
    one after the other instead of both inserting the same new alert.
    """
    hashed = key_hash(note.group_key)
    where = (AlertGroup.source == note.source, AlertGroup.group_key_hash == hashed)
    locked = select(AlertGroup).where(*where).with_for_update()
    found = session.exec(locked).first()
    if found is not None:
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "source": note.source,
        "group_key": note.group_key,
        "group_key_hash": hashed,
        "receiver": note.receiver,
        "status": note.status,
        "group_labels": dumps(note.group_labels),
        "common_labels": dumps(note.common_labels),
        "external_url": note.external_url,
        "channel": channel,
        "mention": mention,
        "dirty": True,
        "version": 0,
        "truncated": 0,  # set with the alerts, by ingest
        "omitted_firing": 0,
        "omitted_resolved": 0,
        "first_seen": now,
        "updated_at": now,
    }
    statement = (
        dialect.insert(AlertGroup)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "group_key_hash"])
    )
    session.execute(statement)
    return session.exec(locked).one()


def _alert_row(group_id: int, alert: IncomingAlert, now: datetime) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "fingerprint": alert.fingerprint,
        "status": alert.status,
        "labels": dumps(alert.labels),
        "annotations": dumps(alert.annotations),
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
        "updated_at": now,
    }


def _differs(old: Any, row: dict[str, Any]) -> bool:
    """A change worth telling; a firing alert's moving endsAt (Prometheus renews it) is not one."""
    return (
        old.status != row["status"]
        or as_utc(old.starts_at) != row["starts_at"]
        or old.annotations != row["annotations"]
        or old.labels != row["labels"]
        or old.generator_url != row["generator_url"]
    )


def _first_kind(alert: IncomingAlert, *, fresh: bool) -> str:
    """An alert seen for the first time: it opens a new group, joins a known one, or arrives resolved."""
    if alert.status == RESOLVED:
        return "resolved"
    return "fired" if fresh else "joined"


def _transition(old: Any, alert: IncomingAlert) -> str | None:
    if old.status == FIRING and alert.status == RESOLVED:
        return "resolved"
    if alert.status == FIRING and (old.status == RESOLVED or as_utc(old.starts_at) != alert.starts_at):
        return "refired"  # a new startsAt means it resolved and fired again between two notifications
    return None


def _event(group_id: int, alert: IncomingAlert, kind: str, now: datetime) -> dict[str, Any]:
    name = alert.labels.get("alertname", alert.fingerprint)
    return {
        "group_id": group_id,
        "fingerprint": alert.fingerprint,
        "kind": kind,
        "detail": name,
        "at": now,
        "notified": False,
    }


def _refresh_group(
    session: Session,
    group: AlertGroup,
    note: Notification,
    now: datetime,
    events: list[dict[str, Any]],
    counts: tuple[int, int, int],
) -> None:
    truncated, omitted_firing, omitted_resolved = counts
    stored_firing = session.exec(
        select(Alert.id).where(Alert.group_id == group.id, Alert.status == FIRING).limit(1)
    ).first()
    # Alerts only counted fire too; of those the source left out, only its group status tells.
    firing = stored_firing is not None or omitted_firing > 0 or (truncated > 0 and note.status == FIRING)
    status = FIRING if firing else RESOLVED
    if status == RESOLVED and group.status == FIRING:
        events.append(
            {
                "group_id": group.id,
                "fingerprint": None,
                "kind": "group_resolved",
                "detail": "",
                "at": now,
                "notified": False,
            }
        )
    # A group firing again after it resolved is a new incident: the old acknowledgement does not
    # mean someone is on this one, so the Acknowledge button comes back.
    reopened = {"acked_by": None, "acked_at": None} if status == FIRING and group.status == RESOLVED else {}
    session.execute(
        update(AlertGroup)
        .where(col(AlertGroup.id) == group.id)
        .values(
            **reopened,
            status=status,
            dirty=True,
            version=AlertGroup.version + 1,
            updated_at=now,
            truncated=truncated,
            omitted_firing=omitted_firing,
            omitted_resolved=omitted_resolved,
            common_labels=dumps(note.common_labels),
            receiver=note.receiver,
            external_url=note.external_url,
        )
    )


# -- what the notifier and the buttons read and write --------------------------------------------


def dirty_groups(session: Session, limit: int = 50) -> list[AlertGroup]:
    """Groups Slack has not been told about yet, oldest first."""
    query = select(AlertGroup).where(col(AlertGroup.dirty).is_(True)).order_by(col(AlertGroup.id))
    query = query.limit(limit)
    return list(session.exec(query).all())


def claim_version(session: Session, group: AlertGroup) -> bool:
    """Mark the group told, if it is still the version that was rendered; False when it changed since
    (or another replica told it first): then nothing may be queued for this rendering."""
    result = session.execute(
        update(AlertGroup)
        .where(
            col(AlertGroup.id) == group.id,
            col(AlertGroup.version) == group.version,
            col(AlertGroup.dirty).is_(True),
        )
        .values(dirty=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def alerts_of(session: Session, group_id: int) -> list[Alert]:
    query = select(Alert).where(Alert.group_id == group_id).order_by(col(Alert.starts_at), col(Alert.id))
    return list(session.exec(query).all())


def unnotified_events(session: Session, group_id: int) -> list[AlertEvent]:
    query = (
        select(AlertEvent)
        .where(AlertEvent.group_id == group_id, col(AlertEvent.notified).is_(False))
        .order_by(col(AlertEvent.id))
    )
    return list(session.exec(query).all())


def mark_notified(
    session: Session, group: AlertGroup, events: list[AlertEvent], message_id: int | None
) -> None:
    """After claim_version: the events are told, and the group's message is known."""
    ids = [e.id for e in events if e.id is not None]
    if ids:
        session.execute(update(AlertEvent).where(col(AlertEvent.id).in_(ids)).values(notified=True))
    if message_id is not None:
        session.execute(
            update(AlertGroup).where(col(AlertGroup.id) == group.id).values(message_id=message_id)
        )


def get_group(session: Session, group_id: int, *, for_update: bool = False) -> AlertGroup | None:
    """The group; `for_update` holds its row until the transaction ends (on SQLite the write
    transaction already holds the whole database)."""
    return session.get(AlertGroup, group_id, with_for_update=for_update, populate_existing=for_update)


def open_groups(session: Session, limit: int = 50) -> list[AlertGroup]:
    query = (
        select(AlertGroup)
        .where(AlertGroup.status == FIRING)
        .order_by(col(AlertGroup.first_seen).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def count_open_groups(session: Session) -> int:
    query = select(func.count()).select_from(AlertGroup).where(AlertGroup.status == FIRING)
    return int(session.exec(query).one())


def record_group_event(
    session: Session, group_id: int, kind: str, detail: str, now: datetime, **changes: Any
) -> None:
    """A person's action on the group (ack, silence, unsilence): stored, and the message redrawn."""
    session.execute(
        update(AlertGroup)
        .where(col(AlertGroup.id) == group_id)
        .values(dirty=True, version=AlertGroup.version + 1, **changes)
    )
    session.add(AlertEvent(group_id=group_id, kind=kind, detail=detail, at=now))
    session.flush()


def events_of(session: Session, group_id: int) -> list[AlertEvent]:
    query = select(AlertEvent).where(AlertEvent.group_id == group_id).order_by(col(AlertEvent.id))
    return list(session.exec(query).all())


def find_group_with_labels(session: Session, labels: dict[str, str]) -> AlertGroup | None:
    """The group holding an alert that carries all these labels (stored as sorted compact JSON)."""
    query = select(Alert.group_id)
    for name, value in labels.items():
        query = query.where(col(Alert.labels).contains(dumps({name: value})[1:-1]))
    group_id = session.exec(query.limit(1)).first()
    return session.get(AlertGroup, group_id) if group_id is not None else None


def settled(session: Session, group: AlertGroup) -> bool:
    """Slack shows everything known about the group: nothing left to render, queue or deliver."""
    if group.dirty or group.message_id is None:
        return False
    post = session.get(OutboxMessage, group.message_id)
    if post is None or post.status != "sent":
        return False
    unsent = select(OutboxMessage.id).where(
        OutboxMessage.ref_id == group.message_id, col(OutboxMessage.status).in_(("pending", "sending"))
    )
    return session.exec(unsent.limit(1)).first() is None and not unnotified_events(session, group.id or 0)


def start_test_run(session: Session, run_id: str, started_by: str, via: str, now: datetime) -> AlertTestRun:
    run = AlertTestRun(run_id=run_id, started_by=started_by, via=via, started_at=now)
    session.add(run)
    session.flush()
    return run


def finish_test_run(session: Session, run_id: str, results: list[dict[str, Any]], now: datetime) -> None:
    """The cases' outcomes (key, outcome, seconds, detail, values), counted as the report shows them."""
    session.execute(
        update(AlertTestRun)
        .where(col(AlertTestRun.run_id) == run_id)
        .values(
            ended_at=now,
            total=len(results),
            passed=sum(1 for r in results if r["outcome"] == "pass"),
            skipped=sum(1 for r in results if r["outcome"] == "skip"),
            results=json.dumps(results, ensure_ascii=False),
        )
    )


def test_runs_between(session: Session, start: datetime, end: datetime) -> list[AlertTestRun]:
    """The alert tests started in [start, end), oldest first."""
    return rows_between(session, AlertTestRun, AlertTestRun.started_at, start, end)


@dataclass(frozen=True)
class FiredGroup:
    """An alert group that fired in a window: when it first did, when it was resolved, how many alerts."""

    group: AlertGroup
    fired_at: datetime
    resolved_at: datetime | None  # None while it is still firing
    alerts: int


def groups_fired_between(session: Session, start: datetime, end: datetime) -> list[FiredGroup]:
    """Every group with an alert that fired (or fired again) in [start, end), first fired first.

    Alert tests' own groups (label iris_alert_test) are left out: the report counts them as tests.
    """
    fired = (
        select(AlertEvent.group_id, func.min(AlertEvent.at).label("fired_at"))
        .where(
            col(AlertEvent.kind).in_(("fired", "refired")),
            col(AlertEvent.at) >= start,
            col(AlertEvent.at) < end,
        )
        .group_by(col(AlertEvent.group_id))
        .subquery()
    )
    resolved = (
        select(AlertEvent.group_id, func.max(AlertEvent.at).label("resolved_at"))
        .where(AlertEvent.kind == "resolved", col(AlertEvent.group_id).in_(select(fired.c.group_id)))
        .group_by(col(AlertEvent.group_id))
        .subquery()
    )
    counted = (
        select(Alert.group_id, func.count().label("alerts"))
        .where(col(Alert.group_id).in_(select(fired.c.group_id)))
        .group_by(col(Alert.group_id))
        .subquery()
    )
    query = (
        select(AlertGroup, fired.c.fired_at, resolved.c.resolved_at, counted.c.alerts)
        .join(fired, fired.c.group_id == AlertGroup.id)
        .outerjoin(resolved, resolved.c.group_id == AlertGroup.id)
        .outerjoin(counted, counted.c.group_id == AlertGroup.id)
        .order_by(fired.c.fired_at, col(AlertGroup.id))
    )
    found = []
    for group, fired_at, resolved_at, alerts in session.exec(query).all():
        labels = {**json.loads(group.common_labels), **json.loads(group.group_labels)}
        if "iris_alert_test" in labels:
            continue
        ended = as_utc(resolved_at) if group.status == RESOLVED and resolved_at is not None else None
        beyond = group.omitted_firing + group.omitted_resolved + group.truncated  # only counted
        found.append(FiredGroup(group, as_utc(fired_at), ended, int(alerts or 0) + beyond))
    return found
