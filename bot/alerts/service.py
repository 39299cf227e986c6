"""The alert pipeline's service: receive a notification, store it, and act on a group for a person."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable
from bot.alerts.payload import Notification, PayloadError, parse_notification
from bot.alerts.routing import Router
from storage import alerts as repo
from storage import audit as audit_repo
from storage import outbox as outbox_repo
from storage.alerts import Alert, AlertGroup, Ingested
from storage.audit import Action, Actor, Audit
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
SILENCE_HOURS = (1, 4, 24)


@dataclass(frozen=True)
class OpenGroup:
    """A firing group as /iris incidents lists it: its alerts, and where Slack shows it (channel, ts)."""

    group: AlertGroup
    alerts: list[Alert]
    posted: tuple[str | None, str] | None


class NoSuchGroup(Exception):
    """The group a button names is not stored (anymore)."""


class NothingToSilenceBy(Exception):
    """The group has no labels: a silence without matchers is refused by Alertmanager (and would
    silence everything if it were not)."""


class NotSilenced(Exception):
    """Unsilence on a group IRIS holds no silence for."""


class AlertService:
    """Everything the webhooks, the buttons and the commands do to alerts; no Slack in here.

    `changes` is set whenever Slack has something new to show; the notifier waits on it.
    """

    def __init__(
        self, engine: Engine, router: Router, alertmanager: AlertmanagerClient, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.router = router
        self.alertmanager = alertmanager
        self.clock = clock
        self.changes = threading.Event()
        # Silence and Unsilence read the group's silence, call Alertmanager, then record: two clicks at
        # once would each create a silence and the group would remember only one of them.
        self._silencing = threading.Lock()

    def receive(self, source: str, body: bytes) -> Ingested:
        """Validate (PayloadError names the field) and store in one transaction; on a rejection only
        its audit row: the sender is authenticated, and its owner must learn why alerts went missing."""
        try:
            note = parse_notification(source, body)
        except PayloadError as exc:
            self._record_refusal(source, body, exc)
            raise
        return self.ingest(note)

    def ingest(self, note: Notification) -> Ingested:
        """Route and store a validated notification (a webhook's, or one polled from Alertmanager)."""
        route = self.router.route({**note.common_labels, **note.group_labels})
        with session_scope(self.engine) as session:
            channel, mention = (route.channel, route.mention) if route else ("", None)
            result = repo.ingest(session, note, channel, mention, self.clock())
        if result.changed:
            self.changes.set()
        return result

    def _record_refusal(self, source: str, body: bytes, error: PayloadError) -> None:
        """Bounded whatever the body: the field path quotes at most 100 characters of a name, and
        the body itself is kept only as its size and hash."""
        why = {"field": error.field, "reason": error.reason, "bytes": len(body)}
        action = Action(
            "alert.receive",
            target=f"/alerts/{source}",
            outcome="refused",
            detail={**why, "sha256": hashlib.sha256(body).hexdigest()},
        )
        try:
            with session_scope(self.engine) as session:
                audit_repo.record(session, Actor(user_id=source), action)
        except SQLAlchemyError as exc:  # the sender still gets its 400: the refusal is in the log
            log.warning("could not audit a refused %s webhook: %s", source, str(exc).splitlines()[0])

    def acknowledge(self, group_id: int, audit: Audit) -> AlertGroup:
        now, user_id = self.clock(), audit.actor.user_id
        with session_scope(self.engine) as session:
            self._group(session, group_id)
            repo.record_group_event(session, group_id, "acked", user_id, now, acked_by=user_id, acked_at=now)
            audit.record(session, str(group_id))
            group = self._group(session, group_id)
        self.changes.set()
        return group

    def silence(self, group_id: int, hours: int, comment: str, audit: Audit) -> AlertGroup:
        """A real Alertmanager silence first; only once it exists is the group recorded as silenced.

        AlertmanagerUnavailable passes through with nothing recorded. A silence the group already had
        (a second click, a stale message, a click on another replica at the same moment) is expired
        once the new one is recorded, so none is left behind that Unsilence could not reach.
        """
        if hours not in SILENCE_HOURS:
            raise ValueError(f"silences last 1, 4 or 24 hours, not {hours}")
        user_id = audit.actor.user_id
        with self._silencing:
            with read_scope(self.engine) as session:
                group = self._group(session, group_id)
            labels, now = silence_labels(group), self.clock()
            if not labels:
                raise NothingToSilenceBy(str(group_id))
            until = now + timedelta(hours=hours)
            silence_id = self.alertmanager.create_silence(
                labels, now, until, created_by=user_id, comment=comment
            )
            with session_scope(self.engine) as session:
                # Read under the row lock: another replica may have recorded a silence meanwhile,
                # and the one recorded last must expire the one it replaces.
                current = repo.get_group(session, group_id, for_update=True)
                replaced = current.silence_id if current is not None else None
                repo.record_group_event(
                    session,
                    group_id,
                    "silenced",
                    user_id,
                    now,
                    silence_id=silence_id,
                    silenced_by=user_id,
                    silenced_until=until,
                )
                audit.record(session, str(group_id), hours=hours, silence_id=silence_id)
                group = self._group(session, group_id)
            if replaced is not None and replaced != silence_id:
                self._expire_replaced(replaced)
        self.changes.set()
        return group

    def _expire_replaced(self, silence_id: str) -> None:
        try:
            self.alertmanager.expire_silence(silence_id)
        except AlertmanagerUnavailable as exc:  # it still ends at its own endsAt
            log.warning("could not expire replaced silence %s: %s", silence_id, exc)

    def unsilence(self, group_id: int, audit: Audit) -> AlertGroup:
        with self._silencing:
            with read_scope(self.engine) as session:
                group = self._group(session, group_id)
            if group.silence_id is None:
                raise NotSilenced(str(group_id))
            self.alertmanager.expire_silence(group.silence_id)
            with session_scope(self.engine) as session:
                repo.record_group_event(
                    session,
                    group_id,
                    "unsilenced",
                    audit.actor.user_id,
                    self.clock(),
                    silence_id=None,
                    silenced_by=None,
                    silenced_until=None,
                )
                audit.record(session, str(group_id))
                group = self._group(session, group_id)
        self.changes.set()
        return group

    def open_groups(self, limit: int) -> tuple[int, list[OpenGroup]]:
        """How many groups are firing, and the first `limit` of them with their alerts and Slack message."""
        with read_scope(self.engine) as session:
            total = repo.count_open_groups(session)
            shown = [self._open(session, group) for group in repo.open_groups(session, limit)]
        return total, shown

    @staticmethod
    def _open(session: Session, group: AlertGroup) -> OpenGroup:
        assert group.id is not None
        posted = outbox_repo.get(session, group.message_id) if group.message_id else None
        where = (posted.slack_channel, posted.slack_ts) if posted and posted.slack_ts else None
        return OpenGroup(group, repo.alerts_of(session, group.id), where)

    @staticmethod
    def _group(session: Session, group_id: int) -> AlertGroup:
        group = repo.get_group(session, group_id)
        if group is None:
            raise NoSuchGroup(str(group_id))
        return group


def silence_labels(group: AlertGroup) -> dict[str, str]:
    """The group's own labels; a group by nothing (`group_by: ['...']`) falls back to its common labels."""
    labels: dict[str, str] = json.loads(group.group_labels) or json.loads(group.common_labels)
    return labels
