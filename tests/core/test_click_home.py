"""A click acts only from its object's own message: where that message was posted, or, before it is
posted (or once the outbox row is pruned), from the object's channel. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from commands.kit import Home, Invocation, _clicked_on
from storage import outbox
from storage.clock import utcnow
from storage.db import session_scope


def _click(channel: str, message_ts: str | None) -> Invocation:
    return Invocation("U1", "T1", channel, "https://hooks.example/1", None, "", "", message_ts=message_ts)


def test_a_posted_message_is_matched_where_it_was_posted_even_after_its_object_moved(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        posted = outbox.enqueue(
            session, outbox.NewMessage("post", "C0OLD", {"channel": "C0OLD", "text": "x"})
        )
        waiting = outbox.enqueue(
            session, outbox.NewMessage("post", "C0NEW", {"channel": "C0NEW", "text": "y"})
        )
        assert posted.id is not None and waiting.id is not None
        outbox.claim(session, [posted.id], "w", now, timedelta(minutes=1))
        outbox.mark_sent(session, posted.id, "w", channel="C0OLD", ts="1700000000.000100")
    # A briefing edited into C0NEW keeps its reminder where it was posted, in C0OLD.
    moved = Home("briefing 1", "C0NEW", posted.id)
    not_yet = Home("briefing 2", "C0NEW", waiting.id)
    with session_scope(engine) as session:
        assert _clicked_on(session, moved, _click("C0OLD", "1700000000.000100"))
        assert not _clicked_on(session, moved, _click("C0NEW", "1700000000.000100"))
        assert not _clicked_on(session, moved, _click("C0OLD", "1700000000.000200"))
        assert _clicked_on(session, not_yet, _click("C0NEW", None))  # not posted yet: its channel decides
        assert not _clicked_on(session, not_yet, _click("C0OTHER", None))
        assert _clicked_on(session, Home("pruned", "C0NEW", 999_999), _click("C0NEW", "1.1"))
