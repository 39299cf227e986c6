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
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import as_utc, utcnow
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
        Index("ix_outbox_message_ref_id_kind", "ref_id", "kind", "status", "sent_at"),  # a group's last file
        Index("ix_outbox_message_status_lane_priority", "status", "lane", "priority", "id"),  # lane heads
        Index("ix_outbox_message_kind_sent_at", "kind", "sent_at"),  # the workspace-wide budgets
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
    # Lower goes first within its lane; equal priorities keep the order they were queued in.
    priority: int = Field(default=50, sa_column_kwargs={"server_default": "50"})
    # What a coalescable message (a thread reply or a file of a group's alerts) was built from, so a
    # later one for the same parent merges into it while it waits; None: it never merges.
    merge_state: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
_FAILING_SINCE = OutboxMessage.__table__.c.failing_since.type  # type: ignore[attr-defined]
UNFINISHED = (PENDING, SENDING)
KINDS = ("post", "update", "ephemeral", "respond", "upload")

# Priorities within a lane (lower first). A message that refers to another (an edit, a thread reply,
# a file in a thread) is never given a lower one than its parent, so it cannot overtake it.
URGENT = 10  # a new critical incident's first post
FIRST_POST = 20  # a new alert group's first post
RESOLUTION = 30  # the edit that shows a group resolved
NORMAL = 50  # everything else, in the order it was queued
HISTORY = 60  # thread replies telling a group's history
FILES = 70  # a group's full alert list as a file


@dataclass(frozen=True)
class NewMessage:
    """What a feature asks the outbox to deliver."""

    kind: str
    lane: str
    payload: dict[str, Any]
    ref_id: int | None = None
    dedupe_key: str | None = None
    source: str = ""
    priority: int = NORMAL
    merge_state: dict[str, Any] | None = None
    not_before: datetime | None = None  # a coalescable message held back on purpose (file pacing)


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
        "payload": _stored_json(message.payload),
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "created_at": moment,
        "next_attempt_at": max(moment, message.not_before or moment),
        "priority": _priority(session, message),
        "merge_state": _state(message.merge_state),
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


def _priority(session: Session, message: NewMessage) -> int:
    """Never ahead of the message it refers to: same lane, so (priority, id) keeps it behind."""
    return max(message.priority, _parent_priority(session, message.ref_id, message.priority))


def _parent_priority(session: Session, ref_id: int | None, default: int) -> int:
    if ref_id is None:
        return default
    parent = session.exec(select(OutboxMessage.priority).where(OutboxMessage.id == ref_id)).first()
    return default if parent is None else int(parent)


def _state(state: dict[str, Any] | None) -> str | None:
    return None if state is None else _stored_json(state)


def _stored_json(value: dict[str, Any]) -> str:
    """JSON escapes NUL; clean() replaces a lone surrogate, which no database can encode."""
    return clean(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def stored_key(key: str) -> str:
    """A lane or dedupe key as stored: itself when it fits its column, else `sha256:` and its digest."""
    return key if len(key) <= MAX_KEY and clean(key) == key else f"sha256:{sha256(key)}"


def _insert(session: Session, values: dict[str, Any]) -> Insert:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(OutboxMessage).values(**values)


def _waits_on_purpose(now: datetime, row: Any = OutboxMessage) -> ColumnElement[bool]:
    """A coalescable message held back by design (never tried yet): it does not hold up its lane."""
    return and_(
        col(row.merge_state).is_not(None),
        col(row.attempts) == 0,
        col(row.next_attempt_at) > now,
    )


Position = tuple[int, int]  # (priority, id): a message's place in the poster's order
START: Position = (-(2**31), 0)


def lane_heads(
    session: Session, now: datetime, after: Position = START, limit: int = 100
) -> list[OutboxMessage]:
    """The first unfinished message of each lane by (priority, id), when it is pending and due and
    nothing else of its lane is being sent; in (priority, id) order across lanes.

    A lane whose head is being sent or waiting for a retry yields nothing, which is what keeps each
    channel's messages in order (and one at a time). `after` pages through a long list. Read-only:
    the poster reads heads without the write lock and `claim` checks each is still its lane's head.

    Each lane's head is one seek in the (status, lane, priority, id) index, so a pass costs the
    number of lanes, not the number of waiting messages: in a storm one channel's lane holds
    thousands, and the poster reads its heads after every message it sends.
    """
    inner = aliased(OutboxMessage)
    lanes = select(col(OutboxMessage.lane)).where(col(OutboxMessage.status) == PENDING).distinct().subquery()
    heads = select(
        select(col(inner.id))
        .where(
            col(inner.lane) == lanes.c.lane,
            col(inner.status) == PENDING,
            ~_waits_on_purpose(now, inner),
        )
        .order_by(col(inner.priority), col(inner.id))
        .limit(1)
        .correlate(lanes)
        .scalar_subquery()
    ).select_from(lanes)
    sending = select(col(OutboxMessage.lane)).where(col(OutboxMessage.status) == SENDING)
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(heads),
            OutboxMessage.next_attempt_at <= now,
            col(OutboxMessage.lane).not_in(sending),
            tuple_(col(OutboxMessage.priority), col(OutboxMessage.id)) > tuple_(*after),
        )
        .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def claim(session: Session, ids: list[int], worker: str, now: datetime, lease: timedelta) -> list[int]:
    """Mark the given rows as being sent by this worker, each only if it is still pending and still
    the head of its lane (lane_heads was read earlier, perhaps by several pollers); returns the ids
    it got."""
    other = aliased(OutboxMessage)
    behind_another = exists().where(
        col(other.lane) == OutboxMessage.lane,
        col(other.id) != OutboxMessage.id,
        or_(
            col(other.status) == SENDING,
            and_(
                col(other.status) == PENDING,
                tuple_(col(other.priority), col(other.id)) < tuple_(OutboxMessage.priority, OutboxMessage.id),
                ~_waits_on_purpose(now, other),
            ),
        ),
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


def sent_since(session: Session, lane: str | None, kinds: tuple[str, ...], since: datetime) -> list[datetime]:
    """When this lane's (every lane's, for None) recent messages of these kinds were sent, oldest
    first: the pacing window."""
    query = (
        select(OutboxMessage.sent_at)
        .where(col(OutboxMessage.kind).in_(kinds), col(OutboxMessage.sent_at) > since)
        .order_by(col(OutboxMessage.sent_at))
    )
    if lane is not None:
        query = query.where(OutboxMessage.lane == lane)
    return [t for t in session.exec(query).all() if t is not None]


def rewrite_pending_update(
    session: Session, message_id: int, payload: dict[str, Any], priority: int = NORMAL
) -> bool:
    """Give an edit of this message that is still waiting (never tried) the newer content instead of
    queueing a second edit; it keeps the more urgent of the two priorities. The status condition is
    in the UPDATE itself, so a poster that claims the row at the same moment either sends the new
    content or makes this return False."""
    waiting = waiting_to_merge(session, "update", message_id, mergeable_only=False)
    if waiting is None:
        return False
    return rewrite_waiting(session, waiting, payload, None, priority)


def waiting_to_merge(
    session: Session, kind: str, ref_id: int, *, mergeable_only: bool = True
) -> OutboxMessage | None:
    """The newest message of this kind for this parent that is waiting and was never tried: a later
    one may merge into it. Only rows queued as mergeable (merge_state set) unless told otherwise."""
    query = select(OutboxMessage).where(
        OutboxMessage.kind == kind,
        OutboxMessage.ref_id == ref_id,
        OutboxMessage.status == PENDING,
        OutboxMessage.attempts == 0,
    )
    if mergeable_only:
        query = query.where(col(OutboxMessage.merge_state).is_not(None))
    return session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(1)).first()


def rewrite_waiting(
    session: Session,
    waiting: OutboxMessage,
    payload: dict[str, Any],
    merge_state: dict[str, Any] | None,
    priority: int,
) -> bool:
    """Replace a waiting message's content, only while it is still waiting and untried (so a poster
    claiming it now sends either the old or the new content, never both); the more urgent priority
    of the two stays, but never ahead of its parent. False: it was claimed meanwhile."""
    kept = min(waiting.priority, max(priority, _parent_priority(session, waiting.ref_id, priority)))
    values: dict[str, Any] = {
        "payload": _stored_json(payload),
        "priority": kept,
    }
    if merge_state is not None:
        values["merge_state"] = _state(merge_state)
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == waiting.id,
            col(OutboxMessage.status) == PENDING,
            col(OutboxMessage.attempts) == 0,
        )
        .values(**values)
    )
    session.expire(waiting)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class LastSent(NamedTuple):
    sent_at: datetime
    merge_state: str | None


def last_sent(session: Session, kind: str, ref_id: int) -> LastSent | None:
    """When a message of this kind for this parent last reached Slack, and what it was built from:
    the pacing of a group's files (their content is not read)."""
    query = (
        select(OutboxMessage.sent_at, OutboxMessage.merge_state)
        .where(OutboxMessage.kind == kind, OutboxMessage.ref_id == ref_id, OutboxMessage.status == SENT)
        .order_by(col(OutboxMessage.sent_at).desc())
        .limit(1)
    )
    row = session.exec(query).first()
    return None if row is None or row[0] is None else LastSent(as_utc(row[0]), row[1])  # type: ignore[arg-type]


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
