"""Turns stored alert changes into outbox messages: one living message per group, a reply per change.

The webhook only stores and marks a group dirty; this runs after, so the 200 never waits for
rendering, bursts of notifications collapse into one edit, and a crash between the two loses
nothing: the group is still dirty when IRIS starts again. A group is marked clean in the same
transaction that queues its messages.
"""

from __future__ import annotations

import json
import logging
import threading
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.deps import Deps
from bot.errors import log_crash
from bot.outbox import post_message, update_message, upload_file
from commands.alerts.views import MAX_SHOWN, full_list, render_changes, render_group
from storage import alerts as repo
from storage.db import session_scope
from storage.models import Alert, AlertGroup

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
GROUPS_PER_PASS = 10  # short write transactions: the webhooks share the database lock on SQLite


class AlertNotifier:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.tz = ZoneInfo(deps.config.settings.iris_timezone)

    def run(self, stop: threading.Event) -> None:
        changes = self.deps.alerts.changes
        while not stop.is_set():
            changes.wait(POLL_SECONDS)  # also polls: another replica may have stored the change
            changes.clear()
            try:
                while self.notify_once() and not stop.is_set():
                    pass
            except Exception:
                log_crash(log, "alert notifier pass")

    def notify_once(self) -> int:
        """Queue Slack messages for up to GROUPS_PER_PASS dirty groups; returns how many."""
        with session_scope(self.deps.engine) as session:
            groups = repo.dirty_groups(session, GROUPS_PER_PASS)
            for group in groups:
                self._notify(session, group)
        if groups:
            self.deps.outbox.wake()
        return len(groups)

    def _notify(self, session: Session, group: AlertGroup) -> None:
        assert group.id is not None
        events = repo.unnotified_events(session, group.id)
        if not group.channel:
            log.warning("alert group %s matches no route and no incidents channel is set", group.id)
            repo.mark_notified(session, group, events, None)
            return
        alerts = repo.alerts_of(session, group.id)
        now = self.deps.clock()
        text, blocks = render_group(self.deps.t, group, alerts, self.tz, now)
        outbox = self.deps.outbox
        if group.message_id is None:
            if group.mention:
                text = f"{_mention(group.mention)} {text}"
            message_id = outbox.send_in(session, post_message(group.channel, text, blocks, source="alerts"))
            self._attach_list(session, group, alerts, message_id)
            repo.mark_notified(session, group, events, message_id)
            return
        self._edit(session, group, group.message_id, text, blocks)
        reply = render_changes(self.deps.t, events, alerts, self.tz, now)
        if reply:
            outbox.send_in(session, post_message(group.channel, reply, thread_of=group.message_id,
                                                 source="alerts"))
        if any(e.fingerprint for e in events):
            self._attach_list(session, group, alerts, group.message_id)
        repo.mark_notified(session, group, events, None)

    def _edit(self, session: Session, group: AlertGroup, message_id: int, text: str,
              blocks: list[dict[str, object]]) -> None:
        """An edit not yet sent is rewritten rather than followed by another: Slack sees the latest only."""
        waiting = repo.pending_update(session, message_id)
        if waiting is not None:
            waiting.payload = json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False,
                                         separators=(",", ":"))
            session.add(waiting)
            return
        self.deps.outbox.send_in(session, update_message(group.channel, message_id, text, blocks,
                                                         source="alerts"))

    def _attach_list(self, session: Session, group: AlertGroup, alerts: list[Alert], message_id: int) -> None:
        """A group too large for one message gets its full list as a file in the thread."""
        if len(alerts) <= MAX_SHOWN and not group.truncated:
            return
        title = self.deps.t("All {n} alerts of the group", n=len(alerts))
        self.deps.outbox.send_in(session, upload_file(group.channel, f"alert-group-{group.id}.tsv",
                                                      full_list(alerts), title=title, thread_of=message_id,
                                                      source="alerts"))


def _mention(target: str) -> str:
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"
