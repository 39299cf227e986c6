"""Outbox repository: enqueue, claim lane heads, and record each delivery's outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.clock import utcnow
from storage.models import OutboxMessage

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
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
    """Add a message; a repeated dedupe_key returns the row already there instead of a second one."""
    if message.kind not in KINDS:
        raise ValueError(f"unknown outbox kind {message.kind!r}")
    if message.dedupe_key is not None:
        existing = session.exec(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == message.dedupe_key)
        ).first()
        if existing is not None:
            return existing
    row = OutboxMessage(
        kind=message.kind,
        lane=message.lane,
        payload=json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")),
        ref_id=message.ref_id,
        dedupe_key=message.dedupe_key,
        source=message.source,
    )
    if now is not None:
        row.created_at = row.next_attempt_at = now
    session.add(row)
    session.flush()
    return row


def lane_heads(session: Session, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """The oldest unfinished message of each lane, when it is pending and due.

    A lane whose head is being sent or waiting for a retry yields nothing, which is what keeps
    each channel's messages in order. On PostgreSQL the rows are locked with SKIP LOCKED so that
    concurrent pollers look past each other's candidates.
    """
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.lane == OutboxMessage.lane,
        col(earlier.id) < OutboxMessage.id,
        col(earlier.status).in_((PENDING, SENDING)),
    )
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now, ~blocked)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    return list(session.exec(query).all())


def claim(session: Session, ids: list[int], worker: str, now: datetime, lease: timedelta) -> list[int]:
    """Mark the given pending rows as being sent by this worker; returns the ids it got."""
    claimed = []
    for message_id in ids:
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == PENDING)
            .values(status=SENDING, claimed_by=worker, lease_until=now + lease,
                    attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    return claimed


def mark_sent(session: Session, message_id: int, *, channel: str | None, ts: str | None,
              at: datetime | None = None) -> None:
    _finish(session, message_id, status=SENT, sent_at=at or utcnow(), slack_channel=channel, slack_ts=ts,
            last_error=None)


def mark_dead(session: Session, message_id: int, reason: str) -> None:
    _finish(session, message_id, status=DEAD, last_error=reason)


def mark_retry(session: Session, message_id: int, *, at: datetime, reason: str) -> None:
    _finish(session, message_id, status=PENDING, next_attempt_at=at, last_error=reason)


def _finish(session: Session, message_id: int, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(claimed_by=None, lease_until=None, **values)
    )


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


def depth(session: Session) -> int:
    """Messages not yet delivered (pending or being sent)."""
    query = select(func.count()).select_from(OutboxMessage).where(
        col(OutboxMessage.status).in_((PENDING, SENDING))
    )
    return int(session.exec(query).one())


def count_by_status(session: Session) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(count) for status, count in session.exec(query).all()}


def dead_letters(session: Session, limit: int = 10) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage).where(OutboxMessage.status == DEAD)
        .order_by(col(OutboxMessage.id).desc()).limit(limit)
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
            .values(status=PENDING, next_attempt_at=now, attempts=0, last_error=None)
        )
    return found


def sent_since(session: Session, lane: str, kind: str, since: datetime) -> list[datetime]:
    """When this lane's recent messages of a kind were sent, oldest first: the pacing window."""
    query = (
        select(OutboxMessage.sent_at)
        .where(OutboxMessage.lane == lane, OutboxMessage.kind == kind, col(OutboxMessage.sent_at) > since)
        .order_by(col(OutboxMessage.sent_at))
    )
    return [t for t in session.exec(query).all() if t is not None]


def next_due(session: Session) -> datetime | None:
    query = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == PENDING)
    return session.exec(query).one()
