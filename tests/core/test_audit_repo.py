"""The audit trail on SQLite and PostgreSQL: appended in order, read back since a moment."""

from __future__ import annotations

import json
from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import Engine

from storage import audit
from storage.audit import Action, Actor
from storage.clock import utcnow
from storage.db import session_scope

ACTOR = Actor(user_id="U1", team_id="T1", channel_id="C1")


def test_events_come_back_in_order_with_who_what_where(engine: Engine) -> None:
    with freeze_time("2024-12-12 07:00:00"), session_scope(engine) as session:
        audit.record(session, ACTOR, Action(name="outbox.retry", target="all", detail={"requeued": [3]}))
    with freeze_time("2024-12-12 07:05:00"), session_scope(engine) as session:
        audit.record(session, ACTOR, Action(name="outbox.retry", target="7", outcome="refused"))
    with session_scope(engine) as session:
        events = audit.since(session, utcnow().replace(year=2024, month=12, day=12, hour=7, minute=1))
        everything = audit.since(session, utcnow() - timedelta(days=10000))
    assert [(e.target, e.outcome) for e in everything] == [("all", "ok"), ("7", "refused")]
    assert [e.target for e in events] == ["7"]
    first = everything[0]
    assert (first.actor, first.team_id, first.channel_id) == ("U1", "T1", "C1")
    assert json.loads(first.detail) == {"requeued": [3]}
