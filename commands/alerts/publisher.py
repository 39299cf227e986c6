"""The alerts' port to Slack: one living message per group, a reply per change, the full list as a file."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.alerts.alert_test import AlertTest, CaseResult
from bot.alerts.notifier import Change
from bot.i18n import Translator
from bot.outbox import Blocks, Outbox, post_message, respond, update_message, upload_file
from commands.alerts.alert_test import render_results
from commands.alerts.views import MAX_SHOWN, full_list, render_changes, render_group, unlisted
from storage.alerts import AlertGroup

SOURCE = "alerts"


@dataclass(frozen=True)
class Rendering:
    """What one group's change looks like in Slack, ready to be queued."""

    text: str
    blocks: Blocks
    reply: str | None
    listing: str | None  # the full alert list for the thread, when the group is too large to show


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
        reply = render_changes(t, change.events, alerts, self.tz, change.now) if group.message_id else None
        membership_changed = group.message_id is None or any(e.fingerprint for e in change.events)
        large = len(alerts) > MAX_SHOWN
        return Rendering(text, blocks, reply, full_list(alerts) if large and membership_changed else None)

    def publish(self, session: Session, change: Change, rendered: Rendering) -> int | None:
        group, outbox = change.group, self._outbox
        message_id = group.message_id
        if message_id is None:
            text = f"{_mention(group.mention)} {rendered.text}" if group.mention else rendered.text
            message_id = outbox.send_in(
                session, post_message(group.channel, text, rendered.blocks, source=SOURCE)
            )
        else:
            edit = update_message(group.channel, message_id, rendered.text, rendered.blocks, source=SOURCE)
            outbox.edit_in(session, edit)
            if rendered.reply:
                reply = post_message(group.channel, rendered.reply, thread_of=message_id, source=SOURCE)
                outbox.send_in(session, reply)
        if rendered.listing is not None:
            title = _listing_title(self._t, group, rendered.listing.count("\n") - 1)
            name = f"alert-group-{group.id}.tsv"
            upload = upload_file(
                group.channel, name, rendered.listing, title=title, thread_of=message_id, source=SOURCE
            )
            outbox.send_in(session, upload)
        return message_id if group.message_id is None else None

    def results(self, test: AlertTest, results: list[CaseResult]) -> None:
        """An alert test's results, to the person who started it (test.reply_to is their response_url)."""
        self._outbox.send(respond(test.reply_to, render_results(self._t, test, results), source="alert-test"))


def _listing_title(t: Translator, group: AlertGroup, listed: int) -> str:
    """The file's title says when it is not the whole group (the rest is only counted)."""
    if unlisted(group):
        return t("{listed} of the group's {n} alerts", listed=listed, n=listed + unlisted(group))
    return t("All {n} alerts of the group", n=listed)


def _mention(target: str) -> str:
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"
