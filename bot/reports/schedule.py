"""The scheduled daily post: the report at `reports.daily_at`, exactly once across restarts and replicas.

An APScheduler cron job on the team's clock says "post today's report now"; whether that happens
is decided in the database: the first claim of the day's row wins (the unique day), on this replica
or another. At start, a post missed while IRIS was down is made late within `reports.grace_seconds`,
or recorded as missed beyond it, as briefings do.
"""

from __future__ import annotations

import logging
import socket
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.reports.compose import Byline
from bot.reports.service import ReportService
from storage import reports as repo
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
JOB = "iris:daily-report"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DailyPost:
    """The reports' part of IRIS's start and stop (commands.feature.Background)."""

    def __init__(
        self,
        service: ReportService,
        scheduler: BaseScheduler,
        channel: str | None,
        *,
        worker: str | None = None,
    ) -> None:
        self.service = service
        self.scheduler = scheduler
        self.channel = channel
        self.worker = worker or f"{socket.gethostname()}:{id(self):x}"
        self.tz = ZoneInfo(service.zone)

    @property
    def enabled(self) -> bool:
        return bool(self.service.settings.daily_at and self.channel and self.service.publisher)

    def start(self) -> None:
        if not self.enabled:
            if self.service.settings.daily_at:
                log.warning("reports.daily_at is set but channels.reports is not: no report will be posted")
            return
        hour, minute = self._clock()
        days = ",".join(self.service.settings.days)
        trigger = CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=self.tz)
        self.scheduler.add_job(
            self.post_due, trigger, id=JOB, replace_existing=True, misfire_grace_time=None, coalesce=True
        )
        self.post_due()  # today's post, if its time passed while IRIS was down

    def close(self) -> None:
        """Nothing to refuse: the scheduler is shut down by IRIS before the jobs are waited for."""

    def stop(self, timeout: float) -> None:
        """Nothing to release: the day's claim and its messages commit together."""

    def slot(self, day: date) -> datetime:
        hour, minute = self._clock()
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def post_due(self) -> str | None:
        """Post today's report if its time has come and nobody did; returns what was recorded, if anything."""
        now = self.service.clock()
        today = now.astimezone(self.tz).date()
        if WEEKDAYS[today.weekday()] not in self.service.settings.days or now < self.slot(today):
            return None
        with read_scope(self.service.engine) as session:
            if repo.post_of(session, today) is not None:
                return None  # settled already (a restart after the post): no report is written for nothing
        late = now - self.slot(today)
        status = repo.POSTED if late < timedelta(minutes=1) else repo.LATE
        if late > timedelta(seconds=self.service.settings.grace_seconds):
            with session_scope(self.service.engine) as session:
                if repo.claim_post(session, today, repo.MISSED, self.worker, now) is None:
                    return None
            log.warning("the report of %s was not posted: IRIS was down past its time and the grace", today)
            return repo.MISSED
        written = self.service.written(today, byline=Byline(author=self.service.settings.author))
        assert self.channel is not None and self.service.publisher is not None
        with session_scope(self.service.engine) as session:
            post = repo.claim_post(session, today, status, self.worker, now)
            if post is None:
                return None  # posted meanwhile by another replica
            repo.set_post_message(session, post, self.service.publisher.post(session, written, self.channel))
        log.info("posted the report of %s (%s)", today, status)
        return status

    def _clock(self) -> tuple[int, int]:
        assert self.service.settings.daily_at is not None
        hour, minute = self.service.settings.daily_at.split(":")
        return int(hour), int(minute)
