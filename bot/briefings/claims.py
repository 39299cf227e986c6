"""Claiming due firings in the database before they reach the outbox, many briefings per transaction.

A firing is claimed (a unique row per briefing and fire time) in the same transaction that hands
its message to the outbox and moves the briefing's cursor: either all of it commits or none does,
and a second claimant, in this process or another, gets nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.briefings.plan import Firing
from bot.briefings.service import Publisher, plan_of
from storage import briefings as repo
from storage.briefings import Briefing, BriefingFiring
from storage.clock import as_utc
from storage.db import session_scope

log = logging.getLogger(__name__)
MAX_CATCH_UP = 200  # firings recorded per briefing after a long downtime; older ones are only logged


class Superseded(Exception):
    """A briefing changed while its firings were being claimed; nothing was kept."""


@dataclass(frozen=True)
class Outcome:
    posted: int
    late: int
    missed: int
    next_fire_at: datetime | None


NOTHING = Outcome(0, 0, 0, None)


@dataclass
class Claimer:
    engine: Engine
    publisher: Publisher
    grace: timedelta
    worker: str
    started_at: datetime  # firings due before this were missed while IRIS was down

    def claim(self, briefing_ids: list[int], now: datetime) -> dict[int, Outcome]:
        """Claim and hand over everything due of these briefings; raises Superseded on a concurrent edit."""
        with session_scope(self.engine) as session:
            briefings = repo.active_by_ids(session, briefing_ids)
            wanted, cursors = self._due(briefings, now)
            won = repo.claim_many(session, wanted, self.worker, now)
            self._hand_over(session, briefings, won)
            if not repo.advance_many(session, cursors):
                raise Superseded()
        counts = Counter((row.briefing_id, row.status) for row in won)
        following = {briefing_id: at for briefing_id, _, at in cursors}
        return {
            briefing_id: Outcome(
                counts[briefing_id, repo.POSTED],
                counts[briefing_id, repo.LATE],
                counts[briefing_id, repo.MISSED],
                following.get(briefing_id),
            )
            for briefing_id in briefing_ids
        }

    def _due(
        self, briefings: dict[int, Briefing], now: datetime
    ) -> tuple[list[dict[str, Any]], list[tuple[int, int, datetime | None]]]:
        wanted: list[dict[str, Any]] = []
        cursors: list[tuple[int, int, datetime | None]] = []
        for briefing_id, briefing in briefings.items():
            if briefing.next_fire_at is None:
                continue
            plan = plan_of(briefing)
            for firing in self._capped(briefing_id, plan.due(as_utc(briefing.next_fire_at), now)):
                wanted.append(
                    {
                        "briefing_id": briefing_id,
                        "fire_at": firing.fire_at,
                        "lead": firing.lead,
                        "occurrence_at": firing.occurrence,
                        "status": self._status(firing, now),
                    }
                )
            following = plan.next_firing(now)
            cursors.append((briefing_id, briefing.version, following.fire_at if following else None))
        return wanted, cursors

    @staticmethod
    def _capped(briefing_id: int, due: Any) -> list[Firing]:
        firings = list(islice(due, MAX_CATCH_UP))
        if len(firings) == MAX_CATCH_UP:
            log.warning(
                "briefing %s has more than %d firings due; only those are recorded", briefing_id, MAX_CATCH_UP
            )
        return firings

    def _status(self, firing: Firing, now: datetime) -> str:
        if now - firing.fire_at > self.grace:
            return repo.MISSED
        return repo.LATE if firing.fire_at < self.started_at else repo.POSTED

    def _hand_over(self, session: Session, briefings: dict[int, Briefing], won: list[BriefingFiring]) -> None:
        posting = [row for row in won if row.status != repo.MISSED]
        answers = repo.answers_for(
            session, sorted({(row.briefing_id, as_utc(row.occurrence_at)) for row in posting})
        )
        messages = []
        for row in won:
            if row.status == repo.MISSED:
                log.warning(
                    "briefing %s: the firing due at %s was missed (IRIS was down longer than the "
                    "grace period); it is recorded, not posted",
                    row.briefing_id,
                    row.fire_at.isoformat(),
                )
                continue
            shown = answers.get((row.briefing_id, as_utc(row.occurrence_at)), {})
            row.message_id = self.publisher.firing(session, briefings[row.briefing_id], row, shown)
            assert row.id is not None
            messages.append((row.id, row.message_id))
        repo.set_messages(session, messages)
