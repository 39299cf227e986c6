"""Audit repository: append-only; there is deliberately no update or delete here.

No value can cost a row: each is cleaned and cut to its column (storage.fit), and `digests` keeps
the sha256 and length of every value that was changed to fit, so the whole can still be matched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, func
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow
from storage.fit import fit

MAX_DETAIL_TEXT = 2000  # characters of one string inside `detail`; longer ones are cut and fingerprinted


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
    # JSON {"target": {"sha256": …, "chars": …}, "detail.why": …} for values cut or cleaned to fit
    digests: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


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
    digests: dict[str, Any] = {}
    detail = _fit_detail(action.detail, "detail", digests)
    event = AuditEvent(
        actor=_fit("actor", actor.user_id, digests),
        action=_fit("action", action.name, digests),
        target=_fit("target", action.target, digests),
        outcome=_fit("outcome", action.outcome, digests),
        team_id=_fit_optional("team_id", actor.team_id, digests),
        channel_id=_fit_optional("channel_id", actor.channel_id, digests),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        digests=json.dumps(digests, sort_keys=True) if digests else None,
    )
    session.add(event)
    session.flush()
    return event


def _fit(name: str, value: str, digests: dict[str, Any]) -> str:
    size = AuditEvent.__table__.c[name].type.length  # type: ignore[attr-defined]
    shown, digest = fit(str(value), size)
    if digest:
        digests[name] = digest
    return shown


def _fit_optional(name: str, value: str | None, digests: dict[str, Any]) -> str | None:
    return None if value is None else _fit(name, value, digests)


def _fit_detail(value: Any, path: str, digests: dict[str, Any]) -> Any:
    """The detail with every string cleaned and long ones cut; the fingerprints are kept by path."""
    if isinstance(value, str):
        shown, digest = fit(value, MAX_DETAIL_TEXT)
        if digest:
            digests[path] = digest
        return shown
    if isinstance(value, dict):
        fitted = {}
        for index, (key, item) in enumerate(value.items()):
            name = _fit_detail(str(key), f"{path}:key{index}", digests)
            fitted[name] = _fit_detail(item, f"{path}.{name}", digests)
        return fitted
    if isinstance(value, list | tuple):
        return [_fit_detail(v, f"{path}.{i}", digests) for i, v in enumerate(value)]
    return value


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
