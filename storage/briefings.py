"""Briefing repository: the schedules, each claimed firing, and who answered what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import Briefing, BriefingAnswer, BriefingFiring

ACTIVE, CANCELLED = "active", "cancelled"
POSTED, LATE, MISSED = "posted", "late", "missed"
ATTENDING, ABSENT = "attending", "absent"
KINDS = ("briefing", "milestone")


def create(session: Session, briefing: Briefing) -> Briefing:
    if briefing.kind not in KINDS:
        raise ValueError(f"unknown briefing kind {briefing.kind!r}")
    session.add(briefing)
    session.flush()
    return briefing


def get(session: Session, briefing_id: int) -> Briefing | None:
    return session.get(Briefing, briefing_id, populate_existing=True)


def upcoming(session: Session, limit: int = 20) -> list[Briefing]:
    """Active briefings with something still to post, soonest first."""
    query = (select(Briefing).where(Briefing.status == ACTIVE, col(Briefing.next_fire_at).is_not(None))
             .order_by(col(Briefing.next_fire_at), col(Briefing.id)).limit(limit))
    return list(session.exec(query).all())


def schedule_rows(session: Session) -> list[tuple[int, datetime]]:
    """(id, next firing) of every briefing the scheduler must watch: what a start rebuilds from."""
    query = select(Briefing.id, Briefing.next_fire_at).where(
        Briefing.status == ACTIVE, col(Briefing.next_fire_at).is_not(None))
    return [(int(i), as_utc(at)) for i, at in session.exec(query).all() if i is not None and at is not None]


def edit(session: Session, briefing_id: int, values: dict[str, Any]) -> Briefing | None:
    """Change an active briefing and bump its version; None when it is unknown or cancelled."""
    result = session.execute(
        update(Briefing).where(col(Briefing.id) == briefing_id, col(Briefing.status) == ACTIVE)
        .values(version=Briefing.version + 1, **values))
    return get(session, briefing_id) if result.rowcount == 1 else None  # type: ignore[attr-defined]


def cancel(session: Session, briefing_id: int) -> bool:
    result = session.execute(
        update(Briefing).where(col(Briefing.id) == briefing_id, col(Briefing.status) == ACTIVE)
        .values(status=CANCELLED, next_fire_at=None, version=Briefing.version + 1))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def advance(session: Session, briefing_id: int, version: int, next_fire_at: datetime | None) -> bool:
    """Move the cursor, unless an edit or cancel changed the briefing since it was read."""
    result = session.execute(
        update(Briefing).where(col(Briefing.id) == briefing_id, col(Briefing.version) == version,
                               col(Briefing.status) == ACTIVE)
        .values(next_fire_at=next_fire_at))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def claim(session: Session, briefing_id: int, *, fire_at: datetime, occurrence_at: datetime, lead: int,
          status: str, worker: str, now: datetime) -> BriefingFiring | None:
    """Claim one firing; None when another process (or an earlier run) already has it.

    The unique (briefing_id, fire_at) key decides with ON CONFLICT DO NOTHING, so two racing
    schedulers neither fail nor both win.
    """
    values = {"briefing_id": briefing_id, "fire_at": fire_at, "occurrence_at": occurrence_at, "lead": lead,
              "status": status, "claimed_by": worker, "claimed_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(BriefingFiring).values(**values)
                 .on_conflict_do_nothing(index_elements=["briefing_id", "fire_at"])
                 .returning(BriefingFiring.__table__.c.id))  # type: ignore[attr-defined]
    new_id = session.execute(statement).scalar()
    return None if new_id is None else session.get(BriefingFiring, new_id)


def set_message(session: Session, firing_id: int, message_id: int) -> None:
    session.execute(update(BriefingFiring).where(col(BriefingFiring.id) == firing_id)
                    .values(message_id=message_id))


def get_firing(session: Session, firing_id: int) -> BriefingFiring | None:
    return session.get(BriefingFiring, firing_id)


def firings_of(session: Session, briefing_id: int) -> list[BriefingFiring]:
    query = (select(BriefingFiring).where(BriefingFiring.briefing_id == briefing_id)
             .order_by(col(BriefingFiring.fire_at)))
    return list(session.exec(query).all())


def latest_start(session: Session, briefing_id: int) -> BriefingFiring | None:
    """The start firing of the most recent occurrence that has begun (posted, late or missed)."""
    query = (select(BriefingFiring).where(BriefingFiring.briefing_id == briefing_id, BriefingFiring.lead == 0)
             .order_by(col(BriefingFiring.fire_at).desc()).limit(1))
    return session.exec(query).first()


def mark_done(session: Session, firing_id: int, user_id: str, now: datetime) -> bool:
    """Record `done` once per occurrence; False when someone already did."""
    result = session.execute(
        update(BriefingFiring)
        .where(col(BriefingFiring.id) == firing_id, col(BriefingFiring.done_at).is_(None))
        .values(done_at=now, done_by=user_id))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_answer(session: Session, briefing_id: int, occurrence_at: datetime, user_id: str, answer: str,
                  now: datetime) -> None:
    """Insert or replace one person's answer for one occurrence (a repeated click changes nothing)."""
    if answer not in (ATTENDING, ABSENT):
        raise ValueError(f"unknown answer {answer!r}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(BriefingAnswer).values(
        briefing_id=briefing_id, occurrence_at=occurrence_at, user_id=user_id, answer=answer, answered_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["briefing_id", "occurrence_at", "user_id"],
        set_={"answer": answer, "answered_at": now}))


def answers(session: Session, briefing_id: int, occurrence_at: datetime) -> dict[str, str]:
    """user ID → answer for one occurrence, in the order people first answered."""
    query = (select(BriefingAnswer.user_id, BriefingAnswer.answer)
             .where(BriefingAnswer.briefing_id == briefing_id, BriefingAnswer.occurrence_at == occurrence_at)
             .order_by(col(BriefingAnswer.id)))
    return {user: answer for user, answer in session.exec(query).all()}


def milestones_between(session: Session, start: datetime, end: datetime) -> list[Briefing]:
    """Active one-off milestones starting in [start, end): the daily report's next steps."""
    query = (select(Briefing).where(Briefing.kind == "milestone", Briefing.status == ACTIVE,
                                    col(Briefing.starts_at) >= start, col(Briefing.starts_at) < end)
             .order_by(col(Briefing.starts_at)))
    return list(session.exec(query).all())


def attendees_of(briefing: Briefing) -> list[str]:
    return list(json.loads(briefing.attendees))


def leads_of(briefing: Briefing) -> tuple[int, ...]:
    return tuple(json.loads(briefing.leads))


def as_utc(moment: datetime) -> datetime:
    """Aware UTC whatever the backend handed back."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
