"""What features call to send anything to Slack: durable rows the poster delivers later."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

from storage import outbox as repo
from storage.clock import utcnow
from storage.db import session_scope
from storage.outbox import NewMessage

Blocks = list[dict[str, Any]]
_WAKE_ON_COMMIT = "iris_outbox_wake"


def post_message(
    channel: str,
    text: str,
    blocks: Blocks | None = None,
    *,
    thread_of: int | None = None,
    dedupe_key: str | None = None,
    source: str = "",
) -> NewMessage:
    """A chat.postMessage; `thread_of` is the outbox id of the parent, whose ts is filled in at send."""
    payload: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
    if blocks:
        payload["blocks"] = blocks
    return NewMessage(
        kind="post", lane=channel, payload=payload, ref_id=thread_of, dedupe_key=dedupe_key, source=source
    )


def update_message(
    channel: str, of: int, text: str, blocks: Blocks | None = None, *, source: str = ""
) -> NewMessage:
    """A chat.update of the message outbox row `of` delivered; same lane, so it never overtakes it."""
    payload: dict[str, Any] = {"text": text, "blocks": blocks or []}
    return NewMessage(kind="update", lane=channel, payload=payload, ref_id=of, source=source)


def ephemeral(
    channel: str, user: str, text: str, blocks: Blocks | None = None, *, source: str = ""
) -> NewMessage:
    payload: dict[str, Any] = {"channel": channel, "user": user, "text": text}
    if blocks:
        payload["blocks"] = blocks
    # Its own lane: an ephemeral must not wait behind a channel post that is backing off.
    return NewMessage(kind="ephemeral", lane=f"ephemeral:{channel}:{user}", payload=payload, source=source)


def respond(
    response_url: str,
    text: str,
    blocks: Blocks | None = None,
    *,
    in_channel: bool = False,
    replace_original: bool = False,
    source: str = "",
) -> NewMessage:
    """A reply through a response_url; each URL is its own lane so replies keep their order."""
    body: dict[str, Any] = {"text": text, "response_type": "in_channel" if in_channel else "ephemeral"}
    if blocks:
        body["blocks"] = blocks
    if replace_original:
        body["replace_original"] = True
    lane = "respond:" + hashlib.sha256(response_url.encode()).hexdigest()[:24]
    return NewMessage(kind="respond", lane=lane, payload={"url": response_url, "body": body}, source=source)


def upload_file(
    channel: str,
    filename: str,
    content: str | bytes,
    *,
    title: str | None = None,
    initial_comment: str | None = None,
    thread_of: int | None = None,
    source: str = "",
) -> NewMessage:
    """A file for the channel (or the thread of `thread_of`); bytes, such as a PNG, are kept as base64."""
    payload: dict[str, Any] = {
        "channel": channel,
        "filename": filename,
        "title": title,
        "initial_comment": initial_comment,
    }
    if isinstance(content, bytes):
        payload["content_base64"] = base64.b64encode(content).decode("ascii")
    else:
        payload["content"] = content
    return NewMessage(kind="upload", lane=channel, payload=payload, ref_id=thread_of, source=source)


class Outbox:
    """Adds messages to the outbox table and wakes the poster; never calls Slack itself."""

    def __init__(
        self, engine: Engine, wake: Callable[[], None], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self._wake = wake
        self._clock = clock

    def send(self, message: NewMessage) -> int:
        with session_scope(self._engine) as session:
            message_id = self.send_in(session, message)
        self._wake()
        return message_id

    def send_in(self, session: Session, message: NewMessage) -> int:
        """Enqueue inside the caller's transaction: the state change and its message commit together.

        The caller's commit makes it visible and wakes the poster; nothing is sent if it rolls back.
        """
        row = repo.enqueue(session, message, self._clock())
        assert row.id is not None
        if not session.info.get(_WAKE_ON_COMMIT):
            session.info[_WAKE_ON_COMMIT] = True
            event.listen(session, "after_commit", self._woken_by_commit, once=True)
        return row.id

    def edit_in(self, session: Session, edit: NewMessage) -> None:
        """Queue an edit, or give an edit of the same message still waiting this newer content instead:
        Slack sees only the latest, with one call."""
        assert edit.kind == "update" and edit.ref_id is not None
        if not repo.rewrite_pending_update(session, edit.ref_id, edit.payload, edit.priority):
            self.send_in(session, edit)

    def merge_in(
        self,
        session: Session,
        message: NewMessage,
        combine: Callable[[dict[str, Any]], NewMessage | None],
    ) -> int:
        """Queue a mergeable message (its merge_state set), or merge it into the one of its kind for
        the same parent still waiting: `combine(waiting's merge_state)` is what replaces that one
        (None: the two do not fit in one, so this one is queued after it).

        In the caller's transaction, and only while the waiting one is untried, so a poster claiming it
        at the same moment sends either the old content or (then this queues a new one) never both.
        """
        assert message.ref_id is not None and message.merge_state is not None
        waiting = repo.waiting_to_merge(session, message.kind, message.ref_id)
        if waiting is not None and waiting.id is not None and waiting.merge_state is not None:
            waiting_id, merged = waiting.id, combine(json.loads(waiting.merge_state))
            if merged is not None and repo.rewrite_waiting(
                session, waiting, merged.payload, merged.merge_state, merged.priority
            ):
                return waiting_id
        return self.send_in(session, message)

    def _woken_by_commit(self, session: Session) -> None:
        session.info.pop(_WAKE_ON_COMMIT, None)
        self._wake()

    def wake(self) -> None:
        self._wake()
