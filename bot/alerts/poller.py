"""Alertmanager pull mode at work: one replica polls (it holds the lease), feeding the webhook's pipeline.

Every `every`, on the scheduler, each replica tries to take or renew the lease; the holder polls
Alertmanager's alert groups and hands the service the notifications a webhook would have brought.
Storing them is idempotent and the notifier claims every version it renders, so even a holder that
lost its lease mid-poll (a long pause) cannot post anything twice. An unreachable Alertmanager is
recorded on the lease's row (every replica's /iris status and /readyz show it) and logged once per
outage; the next poll simply tries again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable
from bot.alerts.payload import PULLED, PUSHED, IncomingAlert, PayloadError, parse_time
from bot.alerts.pull import PullConfig, StoredGroup, polled_notifications, shown_url
from bot.alerts.service import AlertService
from bot.durations import format_duration
from bot.errors import log_crash
from bot.health import Health, Probe
from bot.i18n import N_
from storage import alert_pull as repo
from storage.alerts import Alert, AlertGroup
from storage.clock import as_utc
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
LEASE = "default"  # one poll of one Alertmanager per IRIS
JOB = "iris:alert-pull"
MIN_LEASE_S = 5.0
STANDBY, POLLED, FAILED = "standby", "polled", "failed"


def lease_seconds(every: float) -> float:
    """Long enough to survive two missed renewals; a stopped holder is replaced after this long."""
    return max(3 * every, MIN_LEASE_S)


class AlertPoller:
    """Polls on the scheduler while this replica holds the lease; `poll_once` never raises."""

    def __init__(
        self,
        service: AlertService,
        client: AlertmanagerClient,
        config: PullConfig,
        *,
        holder: str | None = None,
    ) -> None:
        self.service = service
        self.client = client
        self.config = config
        # Unique per process; cut from the left, as a long host name's end tells pods apart.
        self.holder = (holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}")[-200:]
        self._failing = False  # logged already for the current outage of Alertmanager
        self._database_failing = False  # and of the database
        self._closed = False  # stopping: a poll still running must not record the client's closing
        self._problems: set[str] = set()  # groups Alertmanager describes wrongly, logged once each
        self._twice = False  # logged already: alerts arrive by webhook too, and are shown twice
        self._scheduler: BaseScheduler | None = None

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.service.clock

    @property
    def engine(self) -> Engine:
        return self.service.engine

    def schedule(self, scheduler: BaseScheduler) -> None:
        scheduler.add_job(
            self.poll_once,
            "interval",
            seconds=self.config.every,
            id=JOB,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(scheduler.timezone),
        )
        self._scheduler = scheduler

    def poll_once(self) -> str:
        """Take or renew the lease and, holding it, poll once: STANDBY, POLLED or FAILED."""
        if self._closed:
            return STANDBY
        try:
            outcome = self._poll()
        except SQLAlchemyError as exc:  # the database away: the next poll tries again
            if not self._database_failing:
                log.warning(
                    "cannot poll Alertmanager: the database is unavailable: %s", str(exc).splitlines()[0]
                )
                self._database_failing = True
            return FAILED
        except Exception:
            log_crash(log, "alert pull")
            return FAILED
        self._database_failing = False
        return outcome

    def _poll(self) -> str:
        now = self.clock()
        until = now + timedelta(seconds=lease_seconds(self.config.every))
        with session_scope(self.engine) as session:
            if not repo.take_lease(session, LEASE, self.holder, now, until):
                return STANDBY
        try:
            answer = self.client.alert_groups(self.config.filter, self.config.receiver)
            started = self._started_at()
            polled = polled_notifications(
                answer,
                self._stored(),
                self.config.url.rstrip("/"),
                now,
                resolve_absent=self._warm(started, now),
            )
        except (AlertmanagerUnavailable, PayloadError) as exc:
            self._fail(str(exc))
            return FAILED
        for note in polled.notifications:
            self.service.ingest(note)
        self._note_problems(polled.problems)
        with session_scope(self.engine) as session:
            repo.record_success(session, LEASE, self.holder, shown_url(self.config.url), self.clock())
            twice = repo.firing_in_both(session, PULLED, PUSHED)
        self._note_twice(twice)
        if self._failing:
            log.info("Alertmanager at %s answers again", shown_url(self.config.url))
            self._failing = False
        return POLLED

    def _warm(self, started: datetime | None, now: datetime) -> bool:
        """Up long enough to know every alert; one that does not say since when is taken as warm, or
        nothing would ever be resolved."""
        return started is None or now - started >= timedelta(seconds=self.config.warmup)

    def _started_at(self) -> datetime | None:
        """When Alertmanager started (its status's uptime); None when it does not say."""
        status = self.client.status()
        try:
            return parse_time(status.get("uptime") if isinstance(status, dict) else None, "status")
        except PayloadError:
            return None

    def _stored(self) -> dict[str, StoredGroup]:
        with read_scope(self.engine) as session:
            found = repo.firing_groups(session, PULLED)
        return {group.group_key: _stored_group(group, alerts) for group, alerts in found}

    def _fail(self, error: str) -> None:
        if self._closed:
            return
        if not self._failing:
            log.warning(
                "cannot poll Alertmanager at %s (trying again every %s): %s",
                shown_url(self.config.url),
                format_duration(self.config.every),
                error,
            )
            self._failing = True
        with session_scope(self.engine) as session:
            repo.record_failure(session, LEASE, self.holder, shown_url(self.config.url), error, self.clock())

    def _note_problems(self, problems: list[str]) -> None:
        for problem in problems:
            if problem not in self._problems:
                log.warning("left out an alert group Alertmanager described wrongly: %s", problem)
        self._problems = set(problems)

    def _note_twice(self, twice: int) -> None:
        """Said once while it lasts: polling an Alertmanager that also sends IRIS its webhooks."""
        if twice and not self._twice:
            log.warning(
                "%d alerts polled from %s also arrive by webhook, and each is shown twice in Slack: "
                "remove IRIS's webhook receiver from Alertmanager's configuration, or alerts.pull",
                twice,
                shown_url(self.config.url),
            )
        elif self._twice and not twice:
            log.info("no alert arrives both polled and by webhook any more")
        self._twice = bool(twice)

    def close(self) -> None:
        """No more polls from this replica."""
        self._closed = True
        if self._scheduler is not None and self._scheduler.get_job(JOB) is not None:
            self._scheduler.remove_job(JOB)

    def stop(self) -> None:
        """Hand the lease over at once (another replica polls at its next turn), and close the client."""
        try:
            with session_scope(self.engine) as session:
                repo.release_lease(session, LEASE, self.holder)
        except SQLAlchemyError as exc:  # it runs out by itself
            log.warning("could not release the Alertmanager poll lease: %s", str(exc).splitlines()[0])
        self.client.close()


def _stored_group(group: AlertGroup, alerts: list[Alert]) -> StoredGroup:
    return StoredGroup(
        group_key=group.group_key,
        receiver=group.receiver,
        group_labels=json.loads(group.group_labels),
        common_labels=json.loads(group.common_labels),
        firing=[
            IncomingAlert(
                fingerprint=alert.fingerprint,
                status=alert.status,
                labels=json.loads(alert.labels),
                annotations=json.loads(alert.annotations),
                starts_at=as_utc(alert.starts_at),
                ends_at=as_utc(alert.ends_at),
                generator_url=alert.generator_url,
            )
            for alert in alerts
        ],
    )


class PullStatus(Probe):
    """How the poll goes, from the lease's row: every replica answers for whichever one polls."""

    def __init__(self, engine: Engine, config: PullConfig | None, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock

    def health(self) -> Health | None:
        if self.config is None:
            return None
        with read_scope(self.engine) as session:
            state = repo.state_of(session, LEASE)
        url, now = shown_url(self.config.url), self.clock()
        if state is None or (state.polled_at is None and state.failing_since is None):
            return self._health(True, N_("{url}: not polled yet"), url=url)
        if state.failing_since is not None:
            ago = format_duration((now - state.failing_since).total_seconds())
            return self._health(
                False, N_("{url}: unreachable for {ago}: {error}"), url=url, ago=ago, error=state.error or ""
            )
        assert state.polled_at is not None
        quiet = (now - state.polled_at).total_seconds()
        ago = format_duration(max(quiet, 0.0))
        if quiet > lease_seconds(self.config.every) + self.config.every:
            return self._health(False, N_("{url}: no replica has polled for {ago}"), url=url, ago=ago)
        with read_scope(self.engine) as session:
            twice = repo.firing_in_both(session, PULLED, PUSHED)
        if twice:
            message = N_(
                "{url}: polled {ago} ago, but firing alerts also arrive by webhook and are shown "
                "twice ({count}): remove IRIS's webhook receiver from Alertmanager, or alerts.pull"
            )
            return self._health(False, message, url=url, ago=ago, count=twice)
        return self._health(True, N_("{url}: polled {ago} ago"), url=url, ago=ago)

    @staticmethod
    def _health(ok: bool, message: str, **values: object) -> Health:
        return Health("alertmanager_pull", N_("Alertmanager pull"), ok, message, values, required=False)
