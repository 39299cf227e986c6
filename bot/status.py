"""What /iris status reports, gathered from the process, the database and the outbox."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot import __version__
from bot.deps import Deps
from storage import outbox
from storage.db import backend_name, read_scope
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


def gather_status(deps: Deps) -> StatusReport:
    with read_scope(deps.engine) as session:
        counts = outbox.count_by_status(session)
        dead = [
            DeadLetter(m.id or 0, m.lane, m.kind, m.last_error or "") for m in outbox.dead_letters(session)
        ]
        stored = stored_counts(session)
    identity = deps.identity.known
    return StatusReport(
        version=__version__,
        uptime_seconds=time.monotonic() - deps.started_at,
        backend=backend_name(deps.engine),
        schema_revision=current_revision(deps.engine),
        outbox=counts,
        dead_letters=dead,
        stored=stored,
        bot_user_id=identity.user_id if identity else None,
        timezone=deps.config.settings.iris_timezone,
    )


def format_uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
