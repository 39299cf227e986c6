"""The rehearsals' port to Slack: one living parent message per rehearsal, a reply per run, the summary."""

from __future__ import annotations

import json
import logging
import threading
import time

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from sqlmodel import Session

from bot.i18n import Translator
from bot.outbox import Outbox, post_message, update_message, upload_file
from bot.rehearsals.chart import render_timeline
from bot.rehearsals.runner import Progress, RehearsalResult
from bot.rehearsals.scenario import Scenario
from commands.kit import escape_mrkdwn
from commands.rehearsals.views import render_parent, render_run, render_summary
from storage.rehearsals import Rehearsal

log = logging.getLogger(__name__)
SOURCE = "rehearsal"
EDIT_EVERY_SECONDS = 3.0  # chat.update is Tier 3 (~50 a minute); runs can be shorter than that
MAX_JOURNAL_BYTES = 2_000_000  # the outbox keeps the file in a database row until it is delivered


class SlackWatcher:
    """Turns a rehearsal's events into outbox messages in the channel it was started from."""

    def __init__(self, t: Translator, outbox: Outbox, channel: str) -> None:
        self._t = t
        self._outbox = outbox
        self._channel = channel
        self._parent: int | None = None
        self._record: Rehearsal | None = None
        self._scenario_line = ""
        self._last_edit = 0.0
        self._lock = threading.Lock()

    def started(self, session: Session, record: Rehearsal, scenario: Scenario) -> int:
        """The parent message, queued in the service's transaction; its outbox id is the rehearsal's."""
        self._record, self._scenario_line = record, scenario.summary()
        text, blocks = render_parent(self._t, record, self._scenario_line, 0, 0.0, "running")
        self._parent = self._outbox.send_in(session, post_message(self._channel, text, blocks, source=SOURCE))
        return self._parent

    def progressed(self, record_id: str, progress: Progress) -> None:
        assert self._parent is not None and self._record is not None
        reply = render_run(self._t, progress.result)
        self._outbox.send(post_message(self._channel, reply, thread_of=self._parent, source=SOURCE))
        with self._lock:
            throttled = time.monotonic() - self._last_edit < EDIT_EVERY_SECONDS
            if not throttled:
                self._last_edit = time.monotonic()
        if not throttled and progress.run < progress.runs:
            text, blocks = render_parent(
                self._t, self._record, self._scenario_line, progress.run, progress.elapsed, "running"
            )
            edit = update_message(self._channel, self._parent, text, blocks, source=SOURCE)
            self._outbox.send(edit)

    def finished(self, record_id: str, result: RehearsalResult) -> None:
        assert self._parent is not None and self._record is not None
        text, blocks = render_summary(self._t, self._record, result)
        outbox = self._outbox
        outbox.send(update_message(self._channel, self._parent, text, blocks, source=SOURCE))
        chart = _chart(result)
        if chart is not None:
            outbox.send(
                upload_file(
                    self._channel,
                    f"{record_id}-timeline.png",
                    chart,
                    title=self._t("Timeline"),
                    thread_of=self._parent,
                    source=SOURCE,
                )
            )
        journal = journal_file(result)
        outbox.send(
            upload_file(
                self._channel,
                f"{record_id}-journal.json",
                journal,
                title=self._t("Journal"),
                thread_of=self._parent,
                source=SOURCE,
            )
        )

    def failed(self, record_id: str, reason: str) -> None:
        """IRIS itself broke down mid-rehearsal: the message must not keep saying "running"."""
        if self._parent is None or self._record is None:
            return
        text = self._t(
            "*Rehearsal* `{id}` of *{scenario}*: failed — {reason}",
            id=record_id,
            scenario=escape_mrkdwn(self._record.scenario),
            reason=escape_mrkdwn(reason),
        )
        blocks = [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
        self._outbox.send(update_message(self._channel, self._parent, text, blocks, source=SOURCE))


def journal_file(result: RehearsalResult) -> str:
    """The JSON journal, compact; a very long rehearsal keeps its first requests and says what it cut."""
    body = result.to_json()
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= MAX_JOURNAL_BYTES:
        return text
    entries = body["journal"]
    keep = max(1, len(entries) * MAX_JOURNAL_BYTES // len(text) // 2)
    body["journal"] = entries[:keep]
    body["journal_truncated"] = (
        f"{len(entries) - keep} of {len(entries)} requests left out; the whole "
        f"ledger is in the database (table rehearsal_attempt)"
    )
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _chart(result: RehearsalResult) -> bytes | None:
    """The timeline PNG; a chart that cannot be drawn must not cost the team its summary."""
    try:
        return render_timeline(result)
    except Exception:
        log.exception("could not draw the timeline of rehearsal %s", result.rehearsal_id)
        return None


class SlackPublisher:
    """Implements bot.rehearsals.service.Publisher: each rehearsal shown in the channel it started from."""

    def __init__(self, t: Translator, outbox: Outbox) -> None:
        self._t = t
        self._outbox = outbox

    def watch(self, record: Rehearsal) -> SlackWatcher:
        return SlackWatcher(self._t, self._outbox, record.channel_id or "")

    def interrupted(self, records: list[Rehearsal]) -> None:
        announce_interrupted(self._t, self._outbox, records)


def announce_interrupted(t: Translator, outbox: Outbox, records: list[Rehearsal]) -> None:
    """After a restart: the messages of rehearsals cut off by it say so, and nothing runs anymore."""
    for record in records:
        if record.message_id is None or record.channel_id is None:
            continue
        text = t(
            "*Rehearsal* `{id}` of *{scenario}*: interrupted — IRIS restarted while it was "
            "running; its target was stopped. Start it again with `/iris rehearse {scenario}`.",
            id=record.id,
            scenario=record.scenario,
        )
        blocks = [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
        outbox.send(update_message(record.channel_id, record.message_id, text, blocks, source=SOURCE))
