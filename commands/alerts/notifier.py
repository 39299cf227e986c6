"""Turns stored alert changes into outbox messages: one living message per group, a reply per change.

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
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.deps import Deps
from bot.errors import log_crash
from bot.outbox import Blocks, post_message, update_message, upload_file
from commands.alerts.views import MAX_SHOWN, full_list, render_changes, render_group
from storage import alerts as repo
from storage.alerts import AlertEvent, AlertGroup
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
GROUPS_PER_PASS = 20


@dataclass(frozen=True)
class Rendering:
    """What one group's change looks like in Slack, ready to be queued."""

    group: AlertGroup
    events: list[AlertEvent]
    text: str
    blocks: Blocks
    reply: str | None
    listing: str | None  # the full alert list for the thread, when the group is too large to show


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
        """Render up to GROUPS_PER_PASS dirty groups and queue what they need; returns how many it saw."""
        with read_scope(self.deps.engine) as session:
            renderings = [self._render(session, g) for g in repo.dirty_groups(session, GROUPS_PER_PASS)]
        for rendering in renderings:
            with self.deps.alerts.write_lock, session_scope(self.deps.engine) as session:
                if repo.claim_version(session, rendering.group):
                    self._queue(session, rendering)
        if renderings:
            self.deps.outbox.wake()
        return len(renderings)

    def _render(self, session: Session, group: AlertGroup) -> Rendering:
        assert group.id is not None
        events = repo.unnotified_events(session, group.id)
        alerts = repo.alerts_of(session, group.id)
        now = self.deps.clock()
        text, blocks = render_group(self.deps.t, group, alerts, self.tz, now)
        reply = render_changes(self.deps.t, events, alerts, self.tz, now) if group.message_id else None
        membership_changed = group.message_id is None or any(e.fingerprint for e in events)
        large = len(alerts) > MAX_SHOWN or group.truncated > 0
        return Rendering(
            group, events, text, blocks, reply, full_list(alerts) if large and membership_changed else None
        )

    def _queue(self, session: Session, r: Rendering) -> None:
        group, outbox = r.group, self.deps.outbox
        if not group.channel:
            log.warning("alert group %s matches no route and no incidents channel is set", group.id)
            repo.mark_notified(session, group, r.events, None)
            return
        message_id = group.message_id
        if message_id is None:
            text = f"{_mention(group.mention)} {r.text}" if group.mention else r.text
            message_id = outbox.send_in(session, post_message(group.channel, text, r.blocks, source="alerts"))
        else:
            self._edit(session, group.channel, message_id, r.text, r.blocks)
            if r.reply:
                outbox.send_in(
                    session, post_message(group.channel, r.reply, thread_of=message_id, source="alerts")
                )
        if r.listing is not None:
            title = self.deps.t("All {n} alerts of the group", n=r.listing.count("\n") - 1)
            outbox.send_in(
                session,
                upload_file(
                    group.channel,
                    f"alert-group-{group.id}.tsv",
                    r.listing,
                    title=title,
                    thread_of=message_id,
                    source="alerts",
                ),
            )
        repo.mark_notified(session, group, r.events, message_id if group.message_id is None else None)

    def _edit(self, session: Session, channel: str, message_id: int, text: str, blocks: Blocks) -> None:
        """An edit not yet sent is rewritten rather than followed by another: Slack sees the latest only."""
        if repo.rewrite_pending_update(session, message_id, {"text": text, "blocks": blocks}):
            return
        self.deps.outbox.send_in(session, update_message(channel, message_id, text, blocks, source="alerts"))


def _mention(target: str) -> str:
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"
