"""Audit repository: append-only; there is deliberately no update or delete here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, func
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow


class AuditEvent(SQLModel, table=True):
    """An append-only record of a state-changing action, including refusals."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=255)
    outcome: str = Field(default="ok", max_length=16)
    team_id: str | None = Field(default=None, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))


@dataclass(frozen=True)
class Actor:
    """Who did something, and from which Slack team and channel."""

    user_id: str
    team_id: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class Action:
    name: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Audit:
    """A change someone asked for: the service that makes it writes this in the change's own transaction.

    So a change and its audit row commit together or not at all; a refusal is recorded as one too.
    """

    actor: Actor
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def record(self, session: Session, target: str, *, outcome: str = "ok", **more: Any) -> AuditEvent:
        return record(session, self.actor, Action(self.action, target, outcome, {**self.detail, **more}))

    def refused(self, session: Session, target: str, **why: Any) -> AuditEvent:
        return self.record(session, target, outcome="refused", **why)


def record(session: Session, actor: Actor, action: Action) -> AuditEvent:
    event = AuditEvent(
        actor=actor.user_id,
        action=action.name,
        target=action.target,
        outcome=action.outcome,
        team_id=actor.team_id,
        channel_id=actor.channel_id,
        detail=json.dumps(action.detail, ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    session.flush()
    return event


def since(session: Session, moment: datetime, limit: int = 1000) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.at >= moment)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())
