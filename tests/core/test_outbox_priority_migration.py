"""Migration 0013: messages queued before it keep their order after it, and it goes back down
(SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from storage import outbox
from storage.clock import utcnow
from storage.db import session_scope
from tests.alerts.test_migration import blank, migrate  # noqa: F401  (blank is a fixture)

BEFORE, AFTER = "0012_seen_requests", "0013_outbox_priority"


def test_messages_queued_before_the_migration_keep_their_order_after_it(
    blank: tuple[Engine, str],  # noqa: F811
) -> None:
    engine, _url = blank
    migrate(engine, BEFORE)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO outbox_message (lane, kind, payload, source, status, attempts, created_at,"
                    " next_attempt_at) VALUES ('C1', 'post', :payload, '', 'pending', 0, :at, :at)"
                ),
                {"payload": f'{{"n": {n}}}', "at": utcnow()},
            )
    migrate(engine, AFTER)
    with session_scope(engine) as session:
        [head] = outbox.lane_heads(session, utcnow())
        assert head.payload == '{"n": 0}' and head.priority == outbox.NORMAL and head.merge_state is None
    migrate(engine, BEFORE, down=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM outbox_message")).scalar() == 3
    migrate(engine, AFTER)
