"""The alerts' port to Slack: one living message per group, a reply per change, the full list as a file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.alerts.alert_test import AlertTest, CaseResult
from bot.alerts.notifier import Change
from bot.i18n import Translator
from bot.outbox import Blocks, Outbox, post_message, respond, update_message, upload_file
from commands.alerts.alert_test import render_results
from commands.alerts.views import (
    MAX_REPLY_LINES,
    MAX_SHOWN,
    change_lines,
    full_list,
    render_group,
    reply_text,
    unlisted,
)
from storage import outbox as outbox_repo
from storage.alerts import FIRING, AlertGroup
from storage.outbox import FILES, FIRST_POST, HISTORY, NORMAL, RESOLUTION, URGENT, NewMessage

SOURCE = "alerts"
FILE_EVERY = timedelta(minutes=1)  # at most one file of a group's alert list this often
# A group's first list waits this long for the rest of the group: Alertmanager may flush a large
# group in parts a group_interval apart, and one file of the whole group is what people need.
FIRST_FILE_SETTLE = timedelta(seconds=5)
URGENT_SEVERITIES = ("critical", "page")


@dataclass(frozen=True)
class Rendering:
    """What one group's change looks like in Slack, ready to be queued."""

    text: str
    blocks: Blocks
    listing: str | None  # the full alert list for the thread, when the group is too large to show
    reply_lines: tuple[str, ...] = ()  # the thread reply's changes, one a line (none: no reply)
    any_resolved: bool = False  # the reply tells of a resolved alert (it then says how many are)


class SlackPublisher:
    """Implements bot.alerts.notifier.Publisher and the alert test's report."""

    def __init__(self, t: Translator, outbox: Outbox, zone: str, *, silences: bool = True) -> None:
        self._t = t
        self._outbox = outbox
        self.tz = ZoneInfo(zone)
        self._silences = silences  # an Alertmanager is configured, so Silence buttons can work

    def render(self, change: Change) -> Rendering:
        group, alerts, t = change.group, change.alerts, self._t
        text, blocks = render_group(t, group, alerts, self.tz, change.now, silences=self._silences)
        lines = change_lines(t, change.events, self.tz, change.now) if group.message_id else []
        any_resolved = any(e.kind == "resolved" for e in change.events)
        membership_changed = group.message_id is None or any(e.fingerprint for e in change.events)
        listing = full_list(alerts) if len(alerts) > MAX_SHOWN and membership_changed else None
        return Rendering(text, blocks, listing, tuple(lines), any_resolved)

    def publish(self, session: Session, change: Change, rendered: Rendering) -> int | None:
        """Queue the change: a new group's post goes ahead of its channel's thread chatter and files;
        replies and files still waiting for the same group merge instead of queueing more calls."""
        group, outbox = change.group, self._outbox
        message_id = group.message_id
        if message_id is None:
            text = f"{_mention(group.mention)} {rendered.text}" if group.mention else rendered.text
            post = post_message(group.channel, text, rendered.blocks, source=SOURCE)
            message_id = outbox.send_in(session, replace(post, priority=_first_priority(group)))
        else:
            edit = update_message(group.channel, message_id, rendered.text, rendered.blocks, source=SOURCE)
            resolution = group.status != FIRING
            outbox.edit_in(session, replace(edit, priority=RESOLUTION if resolution else NORMAL))
            if rendered.reply_lines:
                self._reply(session, change, rendered, message_id)
        if rendered.listing is not None:
            self._listing(session, change, rendered.listing, message_id)
        return message_id if group.message_id is None else None

    def _reply(self, session: Session, change: Change, rendered: Rendering, thread: int) -> None:
        kept = list(rendered.reply_lines[:MAX_REPLY_LINES])
        state: dict[str, Any] = {
            "lines": kept,
            "more": len(rendered.reply_lines) - len(kept),
            "any_resolved": rendered.any_resolved,
        }

        def reply(state: dict[str, Any]) -> NewMessage:
            text = reply_text(self._t, state["lines"], change.alerts, state["any_resolved"], state["more"])
            message = post_message(change.group.channel, text or "", thread_of=thread, source=SOURCE)
            return replace(message, priority=HISTORY, merge_state=state)

        def merged(waiting: dict[str, Any]) -> NewMessage | None:
            lines = [*waiting.get("lines", []), *state["lines"]]
            if len(lines) > MAX_REPLY_LINES or waiting.get("more") or state["more"]:
                return None  # merged, some changes would only be counted: two replies tell them all
            any_resolved = bool(waiting.get("any_resolved")) or bool(state["any_resolved"])
            return reply({"lines": lines, "more": 0, "any_resolved": any_resolved})

        self._outbox.merge_in(session, reply(state), merged)

    def _listing(self, session: Session, change: Change, listing: str, thread: int) -> None:
        """The newest list replaces one still waiting; one already sent within FILE_EVERY holds the
        next back until then, and a list no different from the last one sent is not sent again.
        The first list of a group waits FIRST_FILE_SETTLE for the rest of the group."""
        group = change.group
        digest = hashlib.sha256(listing.encode()).hexdigest()
        title = _listing_title(self._t, group, listing.count("\n") - 1)
        upload = upload_file(
            group.channel,
            f"alert-group-{group.id}.tsv",
            listing,
            title=title,
            thread_of=thread,
            source=SOURCE,
        )
        upload = replace(upload, priority=FILES, merge_state={"sha256": digest})
        last = outbox_repo.last_sent(session, "upload", thread)
        if last is None:
            upload = replace(upload, not_before=change.now + FIRST_FILE_SETTLE)
        else:
            if _state(last.merge_state).get("sha256") == digest and not self._waiting_upload(session, thread):
                return
            upload = replace(upload, not_before=last.sent_at + FILE_EVERY)
        self._outbox.merge_in(session, upload, lambda _waiting: upload)

    @staticmethod
    def _waiting_upload(session: Session, thread: int) -> bool:
        return outbox_repo.waiting_to_merge(session, "upload", thread) is not None

    def results(self, test: AlertTest, results: list[CaseResult]) -> None:
        """An alert test's results, to the person who started it (test.reply_to is their response_url)."""
        self._outbox.send(respond(test.reply_to, render_results(self._t, test, results), source="alert-test"))


def _listing_title(t: Translator, group: AlertGroup, listed: int) -> str:
    """The file's title says when it is not the whole group (the rest is only counted)."""
    if unlisted(group):
        return t("{listed} of the group's {n} alerts", listed=listed, n=listed + unlisted(group))
    return t("All {n} alerts of the group", n=listed)


def _first_priority(group: AlertGroup) -> int:
    """A critical group's first post goes before any other's."""
    severity = str(json.loads(group.common_labels).get("severity", "")).lower()
    return URGENT if severity in URGENT_SEVERITIES else FIRST_POST


def _state(merge_state: str | None) -> dict[str, Any]:
    loaded = json.loads(merge_state) if merge_state else {}
    return loaded if isinstance(loaded, dict) else {}


def _mention(target: str) -> str:
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"
