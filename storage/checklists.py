"""Checklist repository: template versions, checklists, standing sign-offs and the append-only trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow
from storage.db import rows_between

_ACTIVE_ONLY = text("undone_at IS NULL")


class ChecklistTemplate(SQLModel, table=True):
    """One version of a checklist template as it was loaded: kept whole, known by its content hash."""

    __tablename__ = "checklist_template"
    __table_args__ = (UniqueConstraint("name", "content_hash", name="uq_checklist_template_name_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: str = Field(max_length=32)
    content_hash: str = Field(max_length=64)
    item_count: int
    source: str = Field(sa_column=Column(Text, nullable=False))  # the Markdown: old versions stay comparable
    first_seen_at: datetime = Field(default_factory=utcnow)
    # What changed since the version before it, as JSON (from, from_items, added, removed, reworded);
    # None for a template's first version.
    changes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Checklist(SQLModel, table=True):
    """A release walked through one template version; `events` and `head_hash` end its trail."""

    __tablename__ = "checklist"
    __table_args__ = (Index("ix_checklist_channel_status", "channel_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklist_template.id")
    name: str = Field(max_length=64)
    version: str = Field(max_length=32)
    title: str = Field(max_length=255)
    release: str = Field(default="", max_length=120)
    channel_id: str = Field(max_length=32)
    message_id: int | None = None  # the outbox message showing it; no foreign key, the outbox is pruned
    status: str = Field(default="open", max_length=16)  # open | complete
    page: int = 0  # which page of a long checklist its message shows
    started_by: str = Field(max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=32)
    events: int = 0
    head_hash: str = Field(default="", max_length=64)


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("checklist_id", "position", name="uq_checklist_item_position"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    position: int
    section: str = Field(max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str | None = Field(default=None, max_length=64)  # a role name or a Slack user id
    approval: bool = False


class ChecklistSignoff(SQLModel, table=True):
    """A sign-off or an N/A of one item; an undo marks it undone and never deletes it."""

    __tablename__ = "checklist_signoff"
    __table_args__ = (
        # One standing sign-off per item, decided by the database: two simultaneous clicks, on two
        # replicas or one, cannot both insert.
        Index(
            "uq_checklist_signoff_active",
            "checklist_id",
            "position",
            unique=True,
            sqlite_where=_ACTIVE_ONLY,
            postgresql_where=_ACTIVE_ONLY,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    position: int
    kind: str = Field(max_length=8)  # sign | na
    user_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it is N/A
    undone_at: datetime | None = None
    undone_by: str | None = Field(default=None, max_length=32)


class ChecklistEvent(SQLModel, table=True):
    """The trail: append-only, each row carrying the hash of the one before it."""

    __tablename__ = "checklist_event"
    __table_args__ = (UniqueConstraint("checklist_id", "seq", name="uq_checklist_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    seq: int
    kind: str = Field(max_length=16)  # start | sign | na | note | undo | approve
    position: int | None = None
    actor: str = Field(max_length=32)
    at: datetime
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


OPEN, COMPLETE = "open", "complete"


class AlreadySigned(Exception):
    """The item already has a standing sign-off or N/A: the database refused a second one."""

    def __init__(self, standing: ChecklistSignoff) -> None:
        super().__init__(f"item {standing.position} is already {standing.kind} by {standing.user_id}")
        self.standing = standing


def remember_template(
    session: Session,
    *,
    name: str,
    version: str,
    content_hash: str,
    item_count: int,
    source: str,
    changes: str | None = None,
) -> ChecklistTemplate:
    """The stored row of this exact content; the first load of a version stores it (two racing loads: one)."""
    found = template_by_hash(session, name, content_hash)
    if found is not None:
        return found
    row = ChecklistTemplate(
        name=name,
        version=version,
        content_hash=content_hash,
        item_count=item_count,
        source=source,
        changes=changes,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = template_by_hash(session, name, content_hash)
        if found is None:
            raise
        return found
    return row


def templates_first_seen_between(session: Session, start: datetime, end: datetime) -> list[ChecklistTemplate]:
    """The template versions IRIS saw for the first time in [start, end), oldest first."""
    return rows_between(session, ChecklistTemplate, ChecklistTemplate.first_seen_at, start, end)


def template_by_hash(session: Session, name: str, content_hash: str) -> ChecklistTemplate | None:
    query = select(ChecklistTemplate).where(
        ChecklistTemplate.name == name, ChecklistTemplate.content_hash == content_hash
    )
    return session.exec(query).first()


def template_versions(session: Session, name: str) -> list[ChecklistTemplate]:
    """Every stored version of a template, oldest first."""
    query = (
        select(ChecklistTemplate)
        .where(ChecklistTemplate.name == name)
        .order_by(col(ChecklistTemplate.first_seen_at), col(ChecklistTemplate.id))
    )
    return list(session.exec(query).all())


def template(session: Session, template_id: int) -> ChecklistTemplate | None:
    return session.get(ChecklistTemplate, template_id)


def create(session: Session, checklist: Checklist, items: list[ChecklistItem]) -> Checklist:
    session.add(checklist)
    session.flush()
    assert checklist.id is not None
    for item in items:
        item.checklist_id = checklist.id
        session.add(item)
    session.flush()
    return checklist


def get(session: Session, checklist_id: int) -> Checklist | None:
    return session.get(Checklist, checklist_id)


def lock(session: Session, checklist_id: int) -> Checklist | None:
    """The checklist, locked for this transaction (PostgreSQL; SQLite's writer lock already serialises).

    Every change of one checklist takes this lock first, so its trail grows one event at a time and
    each message is rendered from a state no concurrent change can overtake.
    """
    query = select(Checklist).where(Checklist.id == checklist_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def items(session: Session, checklist_id: int) -> list[ChecklistItem]:
    query = (
        select(ChecklistItem)
        .where(ChecklistItem.checklist_id == checklist_id)
        .order_by(col(ChecklistItem.position))
    )
    return list(session.exec(query).all())


def signoffs(session: Session, checklist_id: int) -> list[ChecklistSignoff]:
    """Every sign-off and N/A ever given, undone ones included, in the order they were given."""
    query = (
        select(ChecklistSignoff)
        .where(ChecklistSignoff.checklist_id == checklist_id)
        .order_by(col(ChecklistSignoff.id))
    )
    return list(session.exec(query).all())


def standing(session: Session, checklist_id: int, position: int) -> ChecklistSignoff | None:
    query = select(ChecklistSignoff).where(
        ChecklistSignoff.checklist_id == checklist_id,
        ChecklistSignoff.position == position,
        col(ChecklistSignoff.undone_at).is_(None),
    )
    return session.exec(query).first()


def add_signoff(session: Session, signoff: ChecklistSignoff) -> ChecklistSignoff:
    """Insert in a savepoint: when the unique index refuses it, the caller's transaction goes on."""
    try:
        with session.begin_nested():
            session.add(signoff)
    except IntegrityError:
        existing = standing(session, signoff.checklist_id, signoff.position)
        if existing is None:
            raise
        raise AlreadySigned(existing) from None
    return signoff


def undo_signoff(session: Session, signoff: ChecklistSignoff, *, by: str, at: datetime) -> None:
    signoff.undone_at, signoff.undone_by = at, by
    session.add(signoff)
    session.flush()


def append_event(session: Session, checklist: Checklist, event: ChecklistEvent) -> ChecklistEvent:
    """Add the next event; the (checklist, seq) constraint refuses a second event with the same number."""
    session.add(event)
    session.flush()
    checklist.events, checklist.head_hash = event.seq, event.hash
    session.add(checklist)
    session.flush()
    return event


def events(session: Session, checklist_id: int) -> list[ChecklistEvent]:
    query = (
        select(ChecklistEvent)
        .where(ChecklistEvent.checklist_id == checklist_id)
        .order_by(col(ChecklistEvent.seq), col(ChecklistEvent.id))
    )
    return list(session.exec(query).all())


def set_values(session: Session, checklist_id: int, **values: Any) -> None:
    """Message id, page, completion: plain columns of the checklist row."""
    session.execute(update(Checklist).where(col(Checklist.id) == checklist_id).values(**values))


def open_in_channel(session: Session, channel_id: str, limit: int = 20) -> list[Checklist]:
    query = (
        select(Checklist)
        .where(Checklist.channel_id == channel_id, Checklist.status == OPEN)
        .order_by(col(Checklist.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def touched_between(session: Session, start: datetime, end: datetime) -> list[Checklist]:
    """Checklists started or completed in [start, end), in the order they were started."""
    started = (col(Checklist.started_at) >= start) & (col(Checklist.started_at) < end)
    completed = (col(Checklist.completed_at) >= start) & (col(Checklist.completed_at) < end)
    query = (
        select(Checklist).where(started | completed).order_by(col(Checklist.started_at), col(Checklist.id))
    )
    return list(session.exec(query).all())


def progress_of(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """{checklist id: (items done, items)}: a standing sign-off or N/A makes an item done."""
    if not ids:
        return {}
    totals = dict(
        session.exec(
            select(ChecklistItem.checklist_id, func.count())
            .where(col(ChecklistItem.checklist_id).in_(ids))
            .group_by(col(ChecklistItem.checklist_id))
        ).all()
    )
    done = dict(
        session.exec(
            select(ChecklistSignoff.checklist_id, func.count())
            .where(col(ChecklistSignoff.checklist_id).in_(ids), col(ChecklistSignoff.undone_at).is_(None))
            .group_by(col(ChecklistSignoff.checklist_id))
        ).all()
    )
    return {
        checklist_id: (int(done.get(checklist_id, 0)), int(totals.get(checklist_id, 0)))
        for checklist_id in ids
    }
