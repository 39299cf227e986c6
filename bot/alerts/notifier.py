"""Turns stored alert changes into what Slack shows: one living message per group, a reply per change.

The webhook only stores and marks a group dirty; this runs after, so the 200 never waits for
rendering, bursts of notifications collapse into one edit, and a crash between the two loses
nothing: the group is still dirty when IRIS starts again. Rendering happens outside any write
transaction (on SQLite the webhooks would wait behind it); the messages are then queued in a short
one that also marks the group told, but only if it is still the version that was rendered.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler
from sqlmodel import Session

from bot.alerts.poller import AlertPoller
from bot.alerts.service import AlertService
from bot.errors import log_crash
from storage import alerts as repo
from storage.alerts import Alert, AlertEvent, AlertGroup
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
GROUPS_PER_PASS = 20
STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Change:
    """One dirty group as it stands: what the publisher renders, outside any write transaction."""

    group: AlertGroup
    alerts: list[Alert]
    events: list[AlertEvent]  # not yet told in Slack
    now: datetime


class Publisher(Protocol):
    """The alerts' port to Slack (commands/alerts implements it)."""

    def render(self, change: Change) -> Any:
        """Everything the change needs shown, rendered; called outside any write transaction."""
        ...

    def publish(self, session: Session, change: Change, rendered: Any) -> int | None:
        """Queue what `render` made, in the transaction marking the group told; the id of a new post."""
        ...


class AlertNotifier:
    """Runs on a thread of its own; `run()` returns when `stop` is set."""

    def __init__(self, service: AlertService, publisher: Publisher) -> None:
        self.service = service
        self.publisher = publisher

    def run(self, stop: threading.Event) -> None:
        changes = self.service.changes
        while not stop.is_set():
            changes.wait(POLL_SECONDS)  # also polls: another replica may have stored the change
            changes.clear()
            try:
                while self.notify_once() and not stop.is_set():
                    pass
            except Exception:
                log_crash(log, "alert notifier pass")

    def notify_once(self) -> int:
        """Render up to GROUPS_PER_PASS dirty groups and queue what they need; returns how many it saw."""
        with read_scope(self.service.engine) as session:
            found = [self._change(session, g) for g in repo.dirty_groups(session, GROUPS_PER_PASS)]
        rendered = [(change, self.publisher.render(change)) for change in found]
        for change, shown in rendered:
            with session_scope(self.service.engine) as session:
                if repo.claim_version(session, change.group):
                    self._queue(session, change, shown)
        return len(rendered)

    def _change(self, session: Session, group: AlertGroup) -> Change:
        assert group.id is not None
        events = repo.unnotified_events(session, group.id)
        return Change(group, repo.alerts_of(session, group.id), events, self.service.clock())

    def _queue(self, session: Session, change: Change, shown: Any) -> None:
        group = change.group
        if not group.channel:
            log.warning("alert group %s matches no route and no incidents channel is set", group.id)
            repo.mark_notified(session, group, change.events, None)
            return
        posted = self.publisher.publish(session, change, shown)
        repo.mark_notified(session, group, change.events, posted if group.message_id is None else None)


class InBackground:
    """The alerts' part of IRIS's start and stop (commands.feature.Background)."""

    def __init__(
        self,
        notifier: AlertNotifier,
        closing: list[Any],
        poller: AlertPoller | None = None,
        scheduler: BaseScheduler | None = None,
    ) -> None:
        self.notifier = notifier
        self.closing = closing  # what refuses new work at close (the alert tester)
        self.poller = poller  # alerts.pull: polls Alertmanager on the scheduler
        self.scheduler = scheduler
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=notifier.run, args=(self._stop,), name="iris-alerts", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        if self.poller is not None and self.scheduler is not None:
            self.poller.schedule(self.scheduler)

    def close(self) -> None:
        if self.poller is not None:
            self.poller.close()
        for part in self.closing:
            part.close()

    def stop(self, timeout: float) -> None:
        """Its pass is one short transaction; what it queued, the poster still sends."""
        self._stop.set()
        self.notifier.service.changes.set()
        self._thread.join(timeout=min(STOP_TIMEOUT_S, timeout))
        if self.poller is not None:
            self.poller.stop()
        self.notifier.service.alertmanager.close()
