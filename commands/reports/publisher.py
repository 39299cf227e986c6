"""The reports' port to Slack: the report as one message, its Markdown and HTML files in its thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlmodel import Session

from bot.i18n import translator
from bot.outbox import Outbox, post_message, upload_file
from bot.reports.service import Written
from commands.reports.views import render_report

SOURCE = "report"
NAME_TTL_S = 3600.0


class SlackPublisher:
    """Implements bot.reports.service.Publisher: the post and its files queue in one transaction."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def post(self, session: Session, written: Written, channel: str) -> int:
        t = translator(written.report.lang)
        text, blocks = render_report(t, written.report)
        message_id = self._outbox.send_in(session, post_message(channel, text, blocks, source=SOURCE))
        for filename, content in written.files.items():
            upload = upload_file(
                channel, filename, content, title=filename, thread_of=message_id, source=SOURCE
            )
            self._outbox.send_in(session, upload)
        return message_id


class People:
    """Names for the written report, from Slack (users.info) and kept an hour; the ID if Slack cannot say."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self._lookup = lookup
        self._known: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def name_of(self, user_id: str) -> str:
        with self._lock:
            cached = self._known.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < NAME_TTL_S:
            return cached[1]
        name = self._lookup(user_id) or user_id
        with self._lock:
            self._known[user_id] = (time.monotonic(), name)
        return name
