"""storage.replays: the database decides which replica saw a Slack request first, and forgets old keys."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from storage import replays
from storage.clock import utcnow
from storage.db import session_scope


def test_a_key_is_new_once_and_forgotten_after_its_time(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        assert replays.first_sighting(session, "a" * 64, now - timedelta(minutes=20))
        assert not replays.first_sighting(session, "a" * 64, now)
        assert replays.first_sighting(session, "b" * 64, now)
    with session_scope(engine) as session:
        assert replays.forget_before(session, now - timedelta(minutes=15)) == 1
    with session_scope(engine) as session:
        assert replays.first_sighting(session, "a" * 64, now)  # forgotten: too old to pass a signature check
        assert not replays.first_sighting(session, "b" * 64, now)
