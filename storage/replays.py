"""Slack requests already acted on, remembered in the database so that every replica recognises a replay.

A signed request stays valid for Slack's five-minute window; without this table the same bytes sent
again would act again (a second briefing, a sign-off after Undo). Rows are only keys and times, and
are forgotten once no replay of them can pass the signature check any more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

KEY_LENGTH = 64  # a sha256 in hex


class SeenRequest(SQLModel, table=True):
    """One Slack request IRIS accepted, by a hash of what makes it unique (its signature or event id)."""

    __tablename__ = "seen_request"

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)
    seen_at: datetime = Field(index=True)


def first_sighting(session: Session, key: str, now: datetime) -> bool:
    """Remember `key`; True when no replica has seen it before (the database decides, atomically)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(SeenRequest)
        .values(key=key, seen_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenRequest.__table__.c.key)  # type: ignore[attr-defined]
    )
    return session.execute(statement).scalar() is not None


def forget_before(session: Session, cutoff: datetime) -> int:
    """Drop what was seen before `cutoff`; returns how many keys were forgotten."""
    result = session.execute(delete(SeenRequest).where(col(SeenRequest.seen_at) < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
