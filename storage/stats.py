"""Counts of what IRIS stores, for /iris status; each feature adds its table here."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from storage.audit import AuditEvent
from storage.checklists import Checklist
from storage.outbox import OutboxMessage
from storage.rehearsals import Rehearsal


def N_(message: str) -> str:
    """Marks a label for the translation catalog; bot.status translates it when showing it."""
    return message


# (label, table): the label is an English message id that the caller translates.
COUNTED: list[tuple[str, type[SQLModel]]] = [
    (N_("Outbox messages"), OutboxMessage),
    (N_("Audit events"), AuditEvent),
    (N_("Rehearsals"), Rehearsal),
    (N_("Checklists"), Checklist),
]


def stored_counts(session: Session) -> list[tuple[str, int]]:
    return [
        (label, int(session.exec(select(func.count()).select_from(table)).one())) for label, table in COUNTED
    ]
