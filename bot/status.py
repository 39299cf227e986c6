"""What /iris status reports, gathered from the process, the database and the outbox; and its retry."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot import __version__
from bot.health import Health, Probe
from storage import outbox
from storage.audit import Audit
from storage.db import backend_name, read_scope, session_scope
from storage.migrate import current_revision
from storage.stats import stored_counts


@dataclass(frozen=True)
class DeadLetter:
    id: int
    lane: str
    kind: str
    reason: str


@dataclass(frozen=True)
class StatusReport:
    version: str
    uptime_seconds: float
    backend: str
    schema_revision: str | None
    outbox: dict[str, int]
    dead_letters: list[DeadLetter]
    stored: list[tuple[str, int]]
    bot_user_id: str | None
    timezone: str
    health: list[Health] = field(default_factory=list)  # the features' outside systems (Probe)


@dataclass(frozen=True)
class Inventory:
    """What IRIS stores, as the features declared it (Feature.counted): the tables status counts."""

    counted: tuple[tuple[str, type[SQLModel]], ...]


@dataclass(frozen=True)
class Process:
    """The facts about this process that status shows beside the database's."""

    started_at: float  # time.monotonic() when it started serving
    timezone: str
    bot_user_id: Callable[[], str | None]  # the bot's own Slack user, once auth.test has answered


def gather_status(
    engine: Engine, inventory: Inventory, process: Process, probes: Sequence[Probe] = ()
) -> StatusReport:
    with read_scope(engine) as session:
        counts = outbox.count_by_status(session)
        dead = [
            DeadLetter(m.id or 0, m.lane, m.kind, m.last_error or "") for m in outbox.dead_letters(session)
        ]
        stored = stored_counts(session, inventory.counted)
    health = [found for probe in probes if (found := probe.health()) is not None]
    return StatusReport(
        version=__version__,
        uptime_seconds=time.monotonic() - process.started_at,
        backend=backend_name(engine),
        schema_revision=current_revision(engine),
        outbox=counts,
        dead_letters=dead,
        stored=stored,
        bot_user_id=process.bot_user_id(),
        timezone=process.timezone,
        health=health,
    )


def retry_dead(engine: Engine, ids: list[int] | None, audit: Audit, now: datetime) -> list[int]:
    """Put dead messages back in line (every one when ids is None), audited in the same transaction."""
    target = "all" if ids is None else ",".join(map(str, ids))
    with session_scope(engine) as session:
        requeued = outbox.requeue_dead(session, ids, now)
        audit.record(session, target, requeued=requeued)
    return requeued


def format_uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
