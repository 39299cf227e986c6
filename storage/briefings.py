"""Briefing repository: the schedules, each claimed firing, and who answered what."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import as_utc, utcnow


class Briefing(SQLModel, table=True):
    """A briefing or milestone: one moment or a recurrence, its reminders and where they are posted."""

    __tablename__ = "briefing"
    __table_args__ = (Index("ix_briefing_status_next_fire_at", "status", "next_fire_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="briefing", max_length=16)  # briefing | milestone
    channel_id: str = Field(max_length=32)
    agenda: str = Field(default="", sa_column=Column(Text, nullable=False))
    attendees: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of user IDs
    leads: str = Field(default="[]", max_length=255)  # JSON list of seconds before each start
    zone: str = Field(max_length=64)  # the IANA zone the wall-clock times were given in
    starts_at: datetime | None = None  # a one-off briefing
    rule: str | None = Field(default=None, max_length=255)  # a recurring one: cron on the zone's clock
    status: str = Field(default="active", max_length=16)  # active | cancelled
    next_fire_at: datetime | None = None  # the earliest firing not yet claimed; None when none is left
    version: int = 1  # bumped by every edit, so a firing computed from an old schedule cannot move it
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class BriefingFiring(SQLModel, table=True):
    """One reminder or start message, claimed before it is posted: the unique key makes it exactly once."""

    __tablename__ = "briefing_firing"
    __table_args__ = (
        UniqueConstraint("briefing_id", "fire_at", name="uq_briefing_firing_briefing_id_fire_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id")
    fire_at: datetime
    occurrence_at: datetime
    lead: int  # seconds before the start; 0 is the start itself
    status: str = Field(max_length=16)  # posted | late | missed
    claimed_by: str = Field(default="", max_length=255)
    claimed_at: datetime = Field(default_factory=utcnow)
    message_id: int | None = None  # the outbox message; no foreign key, the outbox is pruned
    done_at: datetime | None = None  # `/iris brief done` for this occurrence (on its start firing)
    done_by: str | None = Field(default=None, max_length=32)


class BriefingAnswer(SQLModel, table=True):
    """Attending or not, per person and occurrence; the last click counts."""

    __tablename__ = "briefing_answer"
    __table_args__ = (
        UniqueConstraint(
            "briefing_id",
            "occurrence_at",
            "user_id",
            name="uq_briefing_answer_briefing_id_occurrence_at_user_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id")
    occurrence_at: datetime
    user_id: str = Field(max_length=32)
    answer: str = Field(max_length=16)  # attending | absent
    answered_at: datetime = Field(default_factory=utcnow)


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


def upcoming(session: Session, limit: int = 20) -> tuple[list[Briefing], int]:
    """Active briefings with something still to post, soonest first, and how many there are in all."""
    pending = (Briefing.status == ACTIVE, col(Briefing.next_fire_at).is_not(None))
    query = (
        select(Briefing).where(*pending).order_by(col(Briefing.next_fire_at), col(Briefing.id)).limit(limit)
    )
    total = session.exec(select(func.count()).select_from(Briefing).where(*pending)).one()
    return list(session.exec(query).all()), int(total)


def schedule_rows(session: Session) -> list[tuple[int, datetime]]:
    """(id, next firing) of every briefing the scheduler must watch: what a start rebuilds from."""
    query = select(Briefing.id, Briefing.next_fire_at).where(
        Briefing.status == ACTIVE, col(Briefing.next_fire_at).is_not(None)
    )
    return [(int(i), as_utc(at)) for i, at in session.exec(query).all() if i is not None and at is not None]


def edit(session: Session, briefing_id: int, values: dict[str, Any]) -> Briefing | None:
    """Change an active briefing and bump its version; None when it is unknown or cancelled."""
    result = session.execute(
        update(Briefing)
        .where(col(Briefing.id) == briefing_id, col(Briefing.status) == ACTIVE)
        .values(version=Briefing.version + 1, **values)
    )
    return get(session, briefing_id) if result.rowcount == 1 else None  # type: ignore[attr-defined]


def cancel(session: Session, briefing_id: int) -> bool:
    result = session.execute(
        update(Briefing)
        .where(col(Briefing.id) == briefing_id, col(Briefing.status) == ACTIVE)
        .values(status=CANCELLED, next_fire_at=None, version=Briefing.version + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def active_by_ids(session: Session, ids: list[int]) -> dict[int, Briefing]:
    query = select(Briefing).where(col(Briefing.id).in_(ids), Briefing.status == ACTIVE)
    return {b.id: b for b in session.exec(query).all() if b.id is not None}


def claim_many(
    session: Session, claims: list[dict[str, Any]], worker: str, now: datetime
) -> list[BriefingFiring]:
    """Claim firings (dicts of briefing_id, fire_at, occurrence_at, lead, status); returns those won.

    One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: the unique (briefing_id, fire_at) key
    decides, so two racing schedulers neither fail nor both win, and a batch costs one round trip.
    """
    if not claims:
        return []
    values = [claim | {"claimed_by": worker, "claimed_at": now} for claim in claims]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = BriefingFiring.__table__  # type: ignore[attr-defined]
    statement = (
        dialect.insert(BriefingFiring)
        .values(values)
        .on_conflict_do_nothing(index_elements=["briefing_id", "fire_at"])
        .returning(table.c.id, table.c.briefing_id, table.c.fire_at)
    )
    won = {(briefing, as_utc(fire_at)): new_id for new_id, briefing, fire_at in session.execute(statement)}
    by_key = {(v["briefing_id"], as_utc(v["fire_at"])): v for v in values}
    return [BriefingFiring(id=new_id, **by_key[key]) for key, new_id in won.items()]


def set_messages(session: Session, messages: list[tuple[int, int]]) -> None:
    """(firing id, outbox message id) pairs, in one executemany."""
    if messages:
        table = BriefingFiring.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table).where(table.c.id == bindparam("firing")).values(message_id=bindparam("message")),
            [{"firing": firing, "message": message} for firing, message in messages],
        )


def advance_many(session: Session, cursors: list[tuple[int, int, datetime | None]]) -> bool:
    """Move each (id, version, next firing) cursor; False if any briefing was edited since it was read.

    A version that no longer matches means the firings were computed from an old schedule: the
    caller rolls the whole transaction back and starts again from the database.
    """
    table = Briefing.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("briefing"),
            table.c.version == bindparam("seen"),
            table.c.status == ACTIVE,
        )
        .values(next_fire_at=bindparam("following"))
    )
    rows = [{"briefing": i, "seen": v, "following": at} for i, v, at in cursors]
    if not session.get_bind().dialect.supports_sane_multi_rowcount:
        return all(session.execute(statement, row).rowcount == 1 for row in rows)  # type: ignore[attr-defined]
    return not rows or session.execute(statement, rows).rowcount == len(rows)  # type: ignore[attr-defined]


def answers_for(
    session: Session, occurrences: list[tuple[int, datetime]]
) -> dict[tuple[int, datetime], dict[str, str]]:
    """The answers of these (briefing id, occurrence) pairs, grouped by them.

    Only those occurrences are read, not a recurring briefing's whole history: a daily briefing
    would otherwise load every answer it ever had at each firing.
    """
    if not occurrences:
        return {}
    query = (
        select(BriefingAnswer)
        .where(
            col(BriefingAnswer.briefing_id).in_({i for i, _ in occurrences}),
            col(BriefingAnswer.occurrence_at).in_({at for _, at in occurrences}),
        )
        .order_by(col(BriefingAnswer.id))
    )
    wanted = set(occurrences)  # the two INs also match crossed pairs; they are dropped here
    grouped: dict[tuple[int, datetime], dict[str, str]] = {}
    for row in session.exec(query).all():
        key = (row.briefing_id, as_utc(row.occurrence_at))
        if key in wanted:
            grouped.setdefault(key, {})[row.user_id] = row.answer
    return grouped


def get_firing(session: Session, firing_id: int) -> BriefingFiring | None:
    return session.get(BriefingFiring, firing_id)


def lock(session: Session, briefing_id: int) -> Briefing | None:
    """The briefing, locked until commit on PostgreSQL (SQLite's write transactions are serial anyway)."""
    query = select(Briefing).where(Briefing.id == briefing_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def messages_of(session: Session, briefing_id: int, occurrence_at: datetime) -> list[BriefingFiring]:
    """The posted reminders and start message of one occurrence: all of them show its answers."""
    query = (
        select(BriefingFiring)
        .where(
            BriefingFiring.briefing_id == briefing_id,
            BriefingFiring.occurrence_at == occurrence_at,
            col(BriefingFiring.message_id).is_not(None),
        )
        .order_by(col(BriefingFiring.fire_at))
    )
    return list(session.exec(query).all())


def firings_of(session: Session, briefing_id: int) -> list[BriefingFiring]:
    query = (
        select(BriefingFiring)
        .where(BriefingFiring.briefing_id == briefing_id)
        .order_by(col(BriefingFiring.fire_at))
    )
    return list(session.exec(query).all())


def latest_start(session: Session, briefing_id: int) -> BriefingFiring | None:
    """The start firing of the most recent occurrence that has begun (posted, late or missed)."""
    query = (
        select(BriefingFiring)
        .where(BriefingFiring.briefing_id == briefing_id, BriefingFiring.lead == 0)
        .order_by(col(BriefingFiring.fire_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def mark_done(session: Session, firing_id: int, user_id: str, now: datetime) -> bool:
    """Record `done` once per occurrence; False when someone already did."""
    result = session.execute(
        update(BriefingFiring)
        .where(col(BriefingFiring.id) == firing_id, col(BriefingFiring.done_at).is_(None))
        .values(done_at=now, done_by=user_id)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_answer(
    session: Session, briefing_id: int, occurrence_at: datetime, user_id: str, answer: str, now: datetime
) -> None:
    """Insert or replace one person's answer for one occurrence (a repeated click changes nothing)."""
    if answer not in (ATTENDING, ABSENT):
        raise ValueError(f"unknown answer {answer!r}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(BriefingAnswer).values(
        briefing_id=briefing_id, occurrence_at=occurrence_at, user_id=user_id, answer=answer, answered_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["briefing_id", "occurrence_at", "user_id"],
            set_={"answer": answer, "answered_at": now},
        )
    )


def answers(session: Session, briefing_id: int, occurrence_at: datetime) -> dict[str, str]:
    """user ID → answer for one occurrence, in the order people first answered."""
    query = (
        select(BriefingAnswer.user_id, BriefingAnswer.answer)
        .where(BriefingAnswer.briefing_id == briefing_id, BriefingAnswer.occurrence_at == occurrence_at)
        .order_by(col(BriefingAnswer.id))
    )
    return {user: answer for user, answer in session.exec(query).all()}


def milestones_between(session: Session, start: datetime, end: datetime) -> list[Briefing]:
    """Active one-off milestones starting in [start, end): the daily report's next steps."""
    query = (
        select(Briefing)
        .where(
            Briefing.kind == "milestone",
            Briefing.status == ACTIVE,
            col(Briefing.starts_at) >= start,
            col(Briefing.starts_at) < end,
        )
        .order_by(col(Briefing.starts_at))
    )
    return list(session.exec(query).all())


def one_offs_between(session: Session, start: datetime, end: datetime) -> list[Briefing]:
    """Active one-off briefings and milestones starting in [start, end), in time order."""
    query = (
        select(Briefing)
        .where(Briefing.status == ACTIVE, col(Briefing.starts_at) >= start, col(Briefing.starts_at) < end)
        .order_by(col(Briefing.starts_at), col(Briefing.id))
    )
    return list(session.exec(query).all())


def starts_between(session: Session, start: datetime, end: datetime) -> list[tuple[Briefing, BriefingFiring]]:
    """The occurrences that began in [start, end) and were posted (on time or late), with their briefing."""
    query = (
        select(Briefing, BriefingFiring)
        .join(BriefingFiring, col(BriefingFiring.briefing_id) == col(Briefing.id))
        .where(
            BriefingFiring.lead == 0,
            col(BriefingFiring.status).in_((POSTED, LATE)),
            col(BriefingFiring.occurrence_at) >= start,
            col(BriefingFiring.occurrence_at) < end,
        )
        .order_by(col(BriefingFiring.occurrence_at), col(BriefingFiring.id))
    )
    return [(briefing, firing) for briefing, firing in session.exec(query).all()]


def attendees_of(briefing: Briefing) -> list[str]:
    return list(json.loads(briefing.attendees))


def leads_of(briefing: Briefing) -> tuple[int, ...]:
    return tuple(json.loads(briefing.leads))
