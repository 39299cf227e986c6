"""Counts of what IRIS stores, for /iris status: one count per table the features declared."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select


def stored_counts(session: Session, counted: Sequence[tuple[str, type[SQLModel]]]) -> list[tuple[str, int]]:
    """(label, rows) per (label, table); the label is an English message id the caller translates."""
    return [
        (label, int(session.exec(select(func.count()).select_from(table)).one())) for label, table in counted
    ]
