"""Counts of what IRIS stores, for /iris status: one count per table the features declared."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select


def stored_counts(session: Session, counted: Sequence[tuple[str, type[SQLModel]]]) -> list[tuple[str, int]]:
    """(label, rows) per (label, table), in one statement; the label is an English message id."""
    if not counted:
        return []
    counts = [select(func.count()).select_from(table).scalar_subquery() for _, table in counted]
    row = session.exec(select(*counts)).one()
    return [(label, int(n)) for (label, _), n in zip(counted, row, strict=True)]
