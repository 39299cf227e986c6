"""Outbox repository: enqueue, claim lane heads, and record each delivery's outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Index,
    Insert,
    Text,
    UniqueConstraint,
    cast,
    exists,
    func,
    literal,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow
from storage.fit import clean, sha256

MAX_KEY = 255  # lane and dedupe_key: a longer one is stored as its sha256, which keeps it unique


class OutboxMessage(SQLModel, table=True):
    """One thing to send to Slack: a post, an edit, an ephemeral, a response_url reply or a file."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),
        Index("ix_outbox_message_lane_status", "lane", "status", "id"),
        Index("ix_outbox_message_status_due", "status", "next_attempt_at"),
        # The files of a day or of a thread, for the report's references.
        Index("ix_outbox_message_kind_source_created_at", "kind", "source", "created_at"),
        Index("ix_outbox_message_ref_id", "ref_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lane: str = Field(max_length=255, description="ordering key: the channel, or one response_url")
    kind: str = Field(max_length=16)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    ref_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    dedupe_key: str | None = Field(default=None, max_length=255)
    source: str = Field(default="", max_length=64)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    failing_since: datetime | None = None  # first transient failure since the last success or requeue
    sent_at: datetime | None = None
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)
    slack_file_id: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
_FAILING_SINCE = OutboxMessage.__table__.c.failing_since.type  # type: ignore[attr-defined]
UNFINISHED = (PENDING, SENDING)
KINDS = ("post", "update", "ephemeral", "respond", "upload")


@dataclass(frozen=True)
class NewMessage:
    """What a feature asks the outbox to deliver."""

    kind: str
    lane: str
    payload: dict[str, Any]
    ref_id: int | None = None
    dedupe_key: str | None = None
    source: str = ""


def enqueue(session: Session, message: NewMessage, now: datetime | None = None) -> OutboxMessage:
    """Add a message; a repeated dedupe_key returns the row already there instead of a second one.

    The insert itself skips a duplicate key (ON CONFLICT DO NOTHING), so two replicas enqueueing
    the same key at once neither fail nor send twice.
    """
    if message.kind not in KINDS:
        raise ValueError(f"unknown outbox kind {message.kind!r}")
    moment = now or utcnow()
    dedupe_key = stored_key(message.dedupe_key) if message.dedupe_key is not None else None
    values = {
        "kind": message.kind,
        "lane": stored_key(message.lane),
        "ref_id": message.ref_id,
        "source": message.source,
        # JSON escapes NUL; clean() replaces a lone surrogate, which no database can encode.
        "payload": clean(json.dumps(message.payload, ensure_ascii=False, separators=(",", ":"))),
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "created_at": moment,
        "next_attempt_at": moment,
    }
    statement = _insert(session, values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])  # type: ignore[attr-defined]
    new_id = session.execute(statement.returning(OutboxMessage.__table__.c.id)).scalar()  # type: ignore[attr-defined]
    if new_id is None:  # the key was taken: hand back the message already queued under it
        return session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)).one()
    row = session.get(OutboxMessage, new_id)
    assert row is not None
    return row


def stored_key(key: str) -> str:
    """A lane or dedupe key as stored: itself when it fits its column, else `sha256:` and its digest."""
    return key if len(key) <= MAX_KEY and clean(key) == key else f"sha256:{sha256(key)}"


def _insert(session: Session, values: dict[str, Any]) -> Insert:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(OutboxMessage).values(**values)


def lane_heads(session: Session, now: datetime, after_id: int = 0, limit: int = 100) -> list[OutboxMessage]:
    """The oldest unfinished message of each lane, when it is pending and due, in id order.

    A lane whose head is being sent or waiting for a retry yields nothing, which is what keeps
    each channel's messages in order. `after_id` pages through a long list. Read-only: the
    poster reads heads without the write lock and `claim` checks each is still its lane's head.
    """
    heads = (
        select(func.min(OutboxMessage.id))
        .where(col(OutboxMessage.status).in_(UNFINISHED))
        .group_by(col(OutboxMessage.lane))
    )
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(heads),
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            col(OutboxMessage.id) > after_id,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def claim(session: Session, ids: list[int], worker: str, now: datetime, lease: timedelta) -> list[int]:
    """Mark the given rows as being sent by this worker, each only if it is still pending and still
    the head of its lane (lane_heads was read earlier, perhaps by several pollers); returns the ids
    it got."""
    earlier = aliased(OutboxMessage)
    behind_another = exists().where(
        col(earlier.lane) == OutboxMessage.lane,
        col(earlier.id) < OutboxMessage.id,
        col(earlier.status).in_(UNFINISHED),
    )
    claimed = []
    for message_id in ids:
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == PENDING, ~behind_another)
            .values(
                status=SENDING,
                claimed_by=worker,
                lease_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    return claimed


def mark_sent(
    session: Session,
    message_id: int,
    worker: str,
    *,
    channel: str | None,
    ts: str | None,
    file_id: str | None = None,
    at: datetime | None = None,
) -> bool:
    return _finish(
        session,
        message_id,
        worker,
        status=SENT,
        sent_at=at or utcnow(),
        slack_channel=channel,
        slack_ts=ts,
        slack_file_id=file_id,
        last_error=None,
        failing_since=None,
    )


def mark_dead(session: Session, message_id: int, worker: str, reason: str) -> bool:
    return _finish(session, message_id, worker, status=DEAD, last_error=reason)


def mark_retry(
    session: Session, message_id: int, worker: str, *, at: datetime, reason: str, now: datetime
) -> bool:
    return _finish(
        session,
        message_id,
        worker,
        status=PENDING,
        next_attempt_at=at,
        last_error=reason,
        failing_since=func.coalesce(OutboxMessage.failing_since, literal(now, _FAILING_SINCE)),
    )


def _finish(session: Session, message_id: int, worker: str, **values: Any) -> bool:
    """Record an outcome, but only while this worker still holds the claim.

    A worker whose lease expired (it stalled) must not overwrite what the next claimant did.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == SENDING,
            col(OutboxMessage.claimed_by) == worker,
        )
        .values(claimed_by=None, lease_until=None, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def kill(session: Session, message_id: int, reason: str) -> None:
    """Mark a message dead whoever holds it; for callers outside the poster (tools, tests)."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=DEAD, last_error=reason, claimed_by=None, lease_until=None)
    )


def has_expired_leases(session: Session, now: datetime) -> bool:
    query = (
        select(literal(1))
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.lease_until) < now)
        .limit(1)
    )
    return session.exec(query).first() is not None


def reclaim_expired(session: Session, now: datetime) -> int:
    """Give back rows whose sender vanished (crash, kill -9) so another poller can send them."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.lease_until) < now)
        .values(status=PENDING, claimed_by=None, lease_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, worker: str) -> int:
    """On a clean shutdown, hand this worker's in-flight claims back without waiting for the lease."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_by) == worker)
        .values(status=PENDING, claimed_by=None, lease_until=None, attempts=OutboxMessage.attempts - 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def get_many(session: Session, ids: list[int]) -> list[OutboxMessage]:
    """The rows with these ids, in id order."""
    if not ids:
        return []
    return list(
        session.exec(
            select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).order_by(col(OutboxMessage.id))
        ).all()
    )


def depth(session: Session) -> int:
    """Messages not yet delivered (pending or being sent)."""
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.status).in_((PENDING, SENDING)))
    )
    return int(session.exec(query).one())


def count_by_status(session: Session) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(count) for status, count in session.exec(query).all()}


def dead_letters(session: Session, limit: int = 10) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == DEAD)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def requeue_dead(session: Session, ids: list[int] | None, now: datetime) -> list[int]:
    """Put dead messages back in line (all of them when ids is None); returns what was requeued."""
    query = select(OutboxMessage.id).where(OutboxMessage.status == DEAD)
    if ids is not None:
        query = query.where(col(OutboxMessage.id).in_(ids))
    found = [int(i) for i in session.exec(query).all() if i is not None]
    if found:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(found))
            .values(status=PENDING, next_attempt_at=now, attempts=0, last_error=None, failing_since=None)
        )
    return found


def sent_since(session: Session, lane: str, kinds: tuple[str, ...], since: datetime) -> list[datetime]:
    """When this lane's recent messages of these kinds were sent, oldest first: the pacing window."""
    query = (
        select(OutboxMessage.sent_at)
        .where(
            OutboxMessage.lane == lane, col(OutboxMessage.kind).in_(kinds), col(OutboxMessage.sent_at) > since
        )
        .order_by(col(OutboxMessage.sent_at))
    )
    return [t for t in session.exec(query).all() if t is not None]


def rewrite_pending_update(session: Session, message_id: int, payload: dict[str, Any]) -> bool:
    """Give an edit of this message that is still waiting (never tried) the newer content instead of
    queueing a second edit. The status condition is in the UPDATE itself, so a poster that claims the
    row at the same moment either sends the new content or makes this return False."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.kind == "update",
        OutboxMessage.ref_id == message_id,
        OutboxMessage.status == "pending",
        OutboxMessage.attempts == 0,
    )
    waiting = session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(1)).first()
    if waiting is None:
        return False
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == waiting, col(OutboxMessage.status) == "pending")
        .values(payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class UploadName(NamedTuple):
    """A queued file as the report names it: not its content, which may be megabytes of PNG."""

    id: int
    thread: int | None  # the message whose thread it goes to
    filename: str


def _upload_names(session: Session, *where: ColumnElement[bool]) -> list[UploadName]:
    # The file name is read from the JSON payload by the database (SQLite's json_extract, PostgreSQL's
    # ->>), so a report never moves the files' content. PostgreSQL needs the text cast to json; SQLite
    # must not get that cast (its JSON affinity is numeric, and the text would become 0).
    payload = col(OutboxMessage.payload)
    as_json = (
        cast(payload, JSON) if session.get_bind().dialect.name == "postgresql" else type_coerce(payload, JSON)
    )
    filename = as_json["filename"].as_string()
    query = (
        select(col(OutboxMessage.id), col(OutboxMessage.ref_id), filename)
        .where(OutboxMessage.kind == "upload", *where)
        .order_by(col(OutboxMessage.id))
    )
    return [UploadName(int(row[0] or 0), row[1], str(row[2] or "")) for row in session.exec(query).all()]


def upload_names_between(session: Session, start: datetime, end: datetime, source: str) -> list[UploadName]:
    """The files a feature (`source`) queued in [start, end), oldest first."""
    return _upload_names(
        session,
        col(OutboxMessage.source) == source,
        col(OutboxMessage.created_at) >= start,
        col(OutboxMessage.created_at) < end,
    )


def upload_names_in_threads(session: Session, threads: list[int], source: str) -> list[UploadName]:
    """The files a feature (`source`) queued into the threads of these messages, oldest first."""
    if not threads:
        return []
    return _upload_names(session, col(OutboxMessage.source) == source, col(OutboxMessage.ref_id).in_(threads))
