"""The daily report's own rows: the team's notes for a day, and each day's scheduled post, claimed once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow

GOAL, WORK, PROBLEM, NEXT, REF = "goal", "work", "problem", "next", "ref"
KINDS = (GOAL, WORK, PROBLEM, NEXT, REF)
POSTED, LATE, MISSED = "posted", "late", "missed"


class Note(SQLModel, table=True):
    """A line someone added to a day's report: its goal, work, a problem and its response, next, a ref."""

    __tablename__ = "report_note"
    __table_args__ = (Index("ix_report_note_day", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date  # the day of the report it belongs to, in the team's time zone
    kind: str = Field(max_length=16)  # one of KINDS
    text: str = Field(sa_column=Column(Text, nullable=False))
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # to a problem
    author: str = Field(max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None  # a deleted note stays, out of every report
    deleted_by: str | None = Field(default=None, max_length=32)


class ReportPost(SQLModel, table=True):
    """The scheduled post of one day's report: the unique day makes it exactly once across replicas."""

    __tablename__ = "report_post"
    __table_args__ = (UniqueConstraint("day", name="uq_report_post_day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    status: str = Field(max_length=16)  # posted | late | missed
    claimed_by: str = Field(default="", max_length=255)
    claimed_at: datetime = Field(default_factory=utcnow)
    message_id: int | None = None  # the outbox message; no foreign key, the outbox is pruned


def add_note(session: Session, note: Note) -> Note:
    session.add(note)
    session.flush()
    return note


def get_note(session: Session, note_id: int) -> Note | None:
    note = session.get(Note, note_id)
    return note if note is not None and note.deleted_at is None else None


def notes_on(session: Session, day: date) -> list[Note]:
    """The day's notes that stand, in the order they were written."""
    query = select(Note).where(Note.day == day, col(Note.deleted_at).is_(None)).order_by(col(Note.id))
    return list(session.exec(query).all())


def delete_note(session: Session, note_id: int, by: str, at: datetime) -> bool:
    """Mark it deleted, once; False when it is unknown or already deleted."""
    result = session.execute(
        update(Note)
        .where(col(Note.id) == note_id, col(Note.deleted_at).is_(None))
        .values(deleted_at=at, deleted_by=by)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def claim_post(session: Session, day: date, status: str, worker: str, now: datetime) -> ReportPost | None:
    """The day's post for this worker, or None when another claim (here or on a replica) was first."""
    post = ReportPost(day=day, status=status, claimed_by=worker, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(post)
            session.flush()
    except IntegrityError:
        return None
    return post


def post_of(session: Session, day: date) -> ReportPost | None:
    return session.exec(select(ReportPost).where(ReportPost.day == day)).first()


def set_post_message(session: Session, post: ReportPost, message_id: int) -> None:
    post.message_id = message_id
    session.add(post)
    session.flush()
