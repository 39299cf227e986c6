"""APScheduler jobs for briefings, rebuilt from the database; each firing claimed there before posting.

One date job per briefing, at its next firing. The job only says "look at briefing N now": what is
due, late or missed is decided from the database (bot/briefings/claims.py), so a stale job (edited
elsewhere, a second replica) does no harm, and the unique claim makes every firing post at most once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from pydantic import BaseModel, ConfigDict, Field

from bot.briefings.claims import NOTHING, Claimer, Outcome, Superseded
from bot.briefings.service import BriefingService
from bot.config import Section
from storage import briefings as repo
from storage.clock import as_utc
from storage.db import read_scope

log = logging.getLogger(__name__)


class BriefingsConfig(BaseModel):
    """iris.yml's `briefings:` section."""

    model_config = ConfigDict(extra="forbid")

    grace_seconds: float = Field(default=600.0, ge=0)  # firings missed while down: post late or skip


BRIEFINGS: Section[BriefingsConfig] = Section("briefings", BriefingsConfig, BriefingsConfig)
RESYNC_JOB = "iris:briefings-resync"
RESYNC_EVERY_S = 60  # picks up briefings added or edited on another replica
MAX_BATCH = 100  # briefings claimed in one transaction when many fall due at once


class BriefingScheduler:
    def __init__(
        self,
        scheduler: BaseScheduler,
        service: BriefingService,
        *,
        grace: timedelta,
        worker: str | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._service = service
        self._engine = service.engine
        self._clock = service.clock
        name = worker or f"{socket.gethostname()}:{id(self):x}"
        self._claimer = Claimer(service.engine, service.publisher, grace, name, started_at=self._clock())
        self._jobs: dict[int, str] = {}
        self._lock = threading.RLock()
        self._pending: set[int] = set()
        self._pending_lock = threading.Lock()
        # One claiming turn per process: a burst of due jobs becomes a few batched transactions
        # instead of many contending ones (SQLite has a single writer and backs off in sleeps).
        self._turn = threading.Lock()

    def start(self) -> int:
        """Rebuild every job from the database; firings missed while IRIS was down run at once."""
        self._claimer.started_at = self._clock()
        with read_scope(self._engine) as session:
            rows = repo.schedule_rows(session)
        for briefing_id, at in rows:
            self.follow(briefing_id, at)
        self._scheduler.add_job(
            self.resync, "interval", seconds=RESYNC_EVERY_S, id=RESYNC_JOB, replace_existing=True
        )
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
                self._scheduler.add_job(
                    self.tick,
                    "date",
                    run_date=at,
                    args=[briefing_id],
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                    coalesce=True,
                )

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
        """Claim and post whatever of this briefing (and others queued with it) is due now, then follow.

        Jobs due together do not wait for each other: each queues its briefing, and whichever holds
        the claiming turn takes everything queued in batches, one transaction each. A job that finds
        the turn taken returns at once; the holder looks at the queue again after letting go, so no
        queued briefing is left behind.
        """
        with self._pending_lock:
            self._pending.add(briefing_id)
        outcomes: dict[int, Outcome] = {}
        while self._queued() and self._turn.acquire(blocking=False):
            try:
                outcomes |= self._drain()
            finally:
                self._turn.release()
        for claimed_id, outcome in outcomes.items():
            self.follow(claimed_id, outcome.next_fire_at)
        return outcomes.get(briefing_id, NOTHING)  # NOTHING: the turn's holder claims it

    def _queued(self) -> bool:
        with self._pending_lock:
            return bool(self._pending)

    def _drain(self) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        while batch := self._take():
            try:
                outcomes |= self._claimer.claim(batch, self._clock())
            except Superseded:  # one of them was edited meanwhile: again, one by one, from the database
                outcomes |= {briefing_id: self._claim_alone(briefing_id) for briefing_id in batch}
        return outcomes

    def _take(self) -> list[int]:
        with self._pending_lock:
            batch = sorted(self._pending)[:MAX_BATCH]
            self._pending.difference_update(batch)
        return batch

    def _claim_alone(self, briefing_id: int) -> Outcome:
        try:
            return self._claimer.claim([briefing_id], self._clock())[briefing_id]
        except Superseded:
            with read_scope(self._engine) as session:
                briefing = repo.get(session, briefing_id)
            at = briefing.next_fire_at if briefing and briefing.status == repo.ACTIVE else None
            return Outcome(0, 0, 0, as_utc(at) if at else None)

    def jobs(self) -> dict[int, str]:
        with self._lock:
            return dict(self._jobs)


class InBackground:
    """The briefings' part of IRIS's start and stop (commands.feature.Background)."""

    def __init__(self, service: BriefingService, scheduler: BaseScheduler, grace: timedelta) -> None:
        self.service = service
        self.scheduler = BriefingScheduler(scheduler, service, grace=grace)

    def start(self) -> None:
        self.service.watch(self.scheduler.follow)  # before the rebuild: no change falls between
        self.scheduler.start()

    def close(self) -> None:
        """Nothing to refuse: the scheduler itself is shut down by IRIS before the jobs are waited for."""

    def stop(self, timeout: float) -> None:
        """Nothing to release: every firing is claimed and queued in one transaction."""
