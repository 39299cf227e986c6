"""APScheduler jobs for briefings, rebuilt from the database; each firing claimed there before posting.

One date job per briefing, at its next firing. The job only says "look at briefing N now": what is
due, late or missed is decided from the database, so a stale job (edited elsewhere, a second
replica) does no harm, and the unique claim makes every firing post at most once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from bot.briefings.plan import Firing
from bot.briefings.service import plan_of
from bot.outbox import Outbox
from storage import briefings as repo
from storage.briefings import as_utc
from storage.db import read_scope, session_scope
from storage.models import Briefing, BriefingFiring
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
RESYNC_JOB = "iris:briefings-resync"
RESYNC_EVERY_S = 60  # picks up briefings added or edited on another replica
MAX_CATCH_UP = 200  # firings recorded per briefing after a long downtime; older ones are only logged
Render = Callable[[Briefing, BriefingFiring, dict[str, str]], NewMessage]


class Superseded(Exception):
    """The briefing changed while a firing was being claimed; nothing is kept, the job runs again."""


@dataclass(frozen=True)
class Outcome:
    posted: int
    late: int
    missed: int
    next_fire_at: datetime | None


class BriefingScheduler:
    def __init__(self, scheduler: BaseScheduler, engine: Engine, outbox: Outbox, render: Render, *,
                 grace: timedelta, clock: Callable[[], datetime], worker: str | None = None) -> None:
        self._scheduler = scheduler
        self._engine = engine
        self._outbox = outbox
        self._render = render
        self._grace = grace
        self._clock = clock
        self._worker = worker or f"{socket.gethostname()}:{id(self):x}"
        self._started_at = clock()
        self._jobs: dict[int, str] = {}
        self._lock = threading.RLock()

    def start(self) -> int:
        """Rebuild every job from the database; firings missed while IRIS was down run at once."""
        self._started_at = self._clock()
        with read_scope(self._engine) as session:
            rows = repo.schedule_rows(session)
        for briefing_id, at in rows:
            self.follow(briefing_id, at)
        self._scheduler.add_job(self.resync, "interval", seconds=RESYNC_EVERY_S, id=RESYNC_JOB,
                                replace_existing=True)
        log.info("scheduled %d briefings", len(rows))
        return len(rows)

    def follow(self, briefing_id: int, at: datetime | None) -> None:
        """Keep exactly one job for the briefing, at `at` (None: none). Safe from any thread."""
        job_id = f"briefing:{briefing_id}:{at.timestamp():.0f}" if at else None
        with self._lock:
            old = self._jobs.pop(briefing_id, None)
            if old is not None and old != job_id:
                self._remove(old)
            if job_id is None:
                return
            self._jobs[briefing_id] = job_id
            if old != job_id or self._scheduler.get_job(job_id) is None:
                # A fresh id per firing time: APScheduler removes a date job after submitting it,
                # which could otherwise race with (and delete) the successor the job itself adds.
                self._scheduler.add_job(self.tick, "date", run_date=at, args=[briefing_id], id=job_id,
                                        replace_existing=True, misfire_grace_time=None, coalesce=True)

    def _remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):  # it already ran
            self._scheduler.remove_job(job_id)

    def resync(self) -> None:
        """Follow changes made by other replicas (and drop jobs of briefings cancelled there)."""
        with read_scope(self._engine) as session:
            rows = dict(repo.schedule_rows(session))
        with self._lock:
            gone = [briefing_id for briefing_id in self._jobs if briefing_id not in rows]
        for briefing_id in gone:
            self.follow(briefing_id, None)
        for briefing_id, at in rows.items():
            self.follow(briefing_id, at)

    def tick(self, briefing_id: int) -> Outcome:
        """Claim and post whatever of this briefing is due now, then follow its next firing."""
        try:
            outcome = self._claim_due(briefing_id)
        except Superseded:
            with read_scope(self._engine) as session:
                briefing = repo.get(session, briefing_id)
            at = briefing.next_fire_at if briefing and briefing.status == repo.ACTIVE else None
            self.follow(briefing_id, as_utc(at) if at else None)
            return Outcome(0, 0, 0, None)
        if outcome.posted or outcome.late:
            self._outbox.wake()
        self.follow(briefing_id, outcome.next_fire_at)
        return outcome

    def _claim_due(self, briefing_id: int) -> Outcome:
        now = self._clock()
        counts = {repo.POSTED: 0, repo.LATE: 0, repo.MISSED: 0}
        with session_scope(self._engine) as session:
            briefing = repo.get(session, briefing_id)
            if briefing is None or briefing.status != repo.ACTIVE or briefing.next_fire_at is None:
                return Outcome(0, 0, 0, None)
            plan = plan_of(briefing)
            for firing in self._due(briefing, plan.due(as_utc(briefing.next_fire_at), now), now):
                status = self._status(firing, now)
                if self._claim(session, briefing, firing, status, now):
                    counts[status] += 1
            following = plan.next_firing(now)
            next_at = following.fire_at if following else None
            if not repo.advance(session, briefing_id, briefing.version, next_at):
                raise Superseded()
        return Outcome(counts[repo.POSTED], counts[repo.LATE], counts[repo.MISSED], next_at)

    def _due(self, briefing: Briefing, due: object, now: datetime) -> list[Firing]:
        firings = list(islice(due, MAX_CATCH_UP))  # type: ignore[call-overload]
        if len(firings) == MAX_CATCH_UP:
            log.warning("briefing %s has more than %d firings due; only those are recorded", briefing.id,
                        MAX_CATCH_UP)
        return firings

    def _status(self, firing: Firing, now: datetime) -> str:
        if now - firing.fire_at > self._grace:
            return repo.MISSED
        return repo.LATE if firing.fire_at < self._started_at else repo.POSTED

    def _claim(self, session: Session, briefing: Briefing, firing: Firing, status: str,
               now: datetime) -> bool:
        assert briefing.id is not None
        row = repo.claim(session, briefing.id, fire_at=firing.fire_at, occurrence_at=firing.occurrence,
                         lead=firing.lead, status=status, worker=self._worker, now=now)
        if row is None or row.id is None:
            return False
        if status == repo.MISSED:
            log.warning("briefing %s: the firing due at %s was missed (IRIS was down longer than the grace "
                        "period); it is recorded, not posted", briefing.id, firing.fire_at.isoformat())
            return True
        answers = repo.answers(session, briefing.id, firing.occurrence)
        message_id = self._outbox.send_in(session, self._render(briefing, row, answers))
        repo.set_message(session, row.id, message_id)
        row.message_id = message_id
        return True

    def jobs(self) -> dict[int, str]:
        with self._lock:
            return dict(self._jobs)
