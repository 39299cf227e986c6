"""The audit trail on SQLite and PostgreSQL: appended in order, read back since a moment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from storage import audit, fit
from storage.audit import Action, Actor
from storage.clock import utcnow
from storage.db import session_scope
from tests import lengths

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


@pytest.mark.parametrize("case", lengths.CORPUS["hostile"], ids=lambda case: case["name"])
def test_no_value_costs_the_audit_its_row(engine: Engine, case: dict[str, object]) -> None:
    value = lengths.value(case)
    actor = Actor(user_id=value, team_id=value, channel_id=value)
    with session_scope(engine) as session:
        audit.record(
            session, actor, Action(name=value, target=value, outcome="refused", detail={value: value})
        )
    with session_scope(engine) as session:
        (event,) = audit.since(session, utcnow() - timedelta(days=1))
    stored = [event.actor, event.action, event.target, event.team_id, event.channel_id]
    assert all(text and "\x00" not in text for text in stored)
    digests = json.loads(event.digests) if event.digests else {}
    for name, text in zip(("actor", "action", "target", "team_id", "channel_id"), stored, strict=True):
        if text == value:
            assert name not in digests
        else:  # cut or cleaned: the whole value's fingerprint matches it
            assert digests[name] == {"sha256": fit.sha256(value), "chars": len(value)}
            assert fit.clean(value).startswith(text.rstrip("…"))
    detail = json.loads(event.detail)
    assert len(detail) == 1 and len(json.dumps(detail)) < 2 * 6 * audit.MAX_DETAIL_TEXT + 100


def test_a_long_target_can_still_be_matched_by_its_fingerprint(engine: Engine) -> None:
    whole = "scenario-" + "x" * 400
    with session_scope(engine) as session:
        audit.record(session, ACTOR, Action(name="rehearsal.start", target=whole, outcome="refused"))
    with session_scope(engine) as session:
        (event,) = audit.since(session, utcnow() - timedelta(days=1))
    assert len(event.target) == 255 and event.target.endswith("…")
    assert json.loads(event.digests or "{}")["target"]["sha256"] == fit.sha256(whole)
