"""Priorities within a lane on SQLite and PostgreSQL: what matters first, never a child before its parent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from storage import outbox
from storage.clock import utcnow
from storage.db import session_scope
from storage.outbox import FILES, FIRST_POST, HISTORY, NORMAL, RESOLUTION, URGENT, NewMessage

LEASE = timedelta(seconds=60)


def _add(engine: Engine, kind: str, priority: int = NORMAL, ref_id: int | None = None, **extra) -> int:
    message = NewMessage(kind=kind, lane="C1", payload={"n": 1}, ref_id=ref_id, priority=priority, **extra)
    with session_scope(engine) as session:
        row = outbox.enqueue(session, message)
        assert row.id is not None
        return row.id


def _heads(engine: Engine, now=None) -> list[int]:
    with session_scope(engine) as session:
        return [m.id for m in outbox.lane_heads(session, now or utcnow())]  # type: ignore[misc]


def _send(engine: Engine, message_id: int) -> None:
    with session_scope(engine) as session:
        assert outbox.claim(session, [message_id], "w", utcnow(), LEASE) == [message_id]
        assert outbox.mark_sent(session, message_id, "w", channel="C1", ts=f"{message_id}.0")


def test_a_new_groups_first_post_goes_ahead_of_waiting_replies_and_files(engine: Engine) -> None:
    old = _add(engine, "post", FIRST_POST)
    _send(engine, old)
    reply, upload = _add(engine, "post", HISTORY, ref_id=old), _add(engine, "upload", FILES, ref_id=old)
    edit = _add(engine, "update", NORMAL, ref_id=old)
    new = _add(engine, "post", FIRST_POST)
    critical = _add(engine, "post", URGENT)
    order = []
    while heads := _heads(engine):
        [head] = heads  # one lane: one head at a time
        order.append(head)
        _send(engine, head)
    assert order == [critical, new, edit, reply, upload]


def test_a_resolution_edit_goes_ahead_of_history_replies(engine: Engine) -> None:
    post = _add(engine, "post", FIRST_POST)
    _send(engine, post)
    replies = [_add(engine, "post", HISTORY, ref_id=post) for _ in range(3)]
    resolution = _add(engine, "update", RESOLUTION, ref_id=post)
    assert _heads(engine) == [resolution]
    _send(engine, resolution)
    assert _heads(engine) == [replies[0]]  # then the history, in the order it happened


def test_a_message_is_never_put_ahead_of_the_one_it_refers_to(engine: Engine) -> None:
    parent = _add(engine, "post", FILES)  # e.g. another feature's post, queued at a low priority
    child = _add(engine, "update", URGENT, ref_id=parent)
    with session_scope(engine) as session:
        assert outbox.get(session, child).priority == FILES  # type: ignore[union-attr]
    assert _heads(engine) == [parent]
    with session_scope(engine) as session:
        assert outbox.claim(session, [child], "w", utcnow(), LEASE) == []  # not its lane's head
        assert outbox.claim(session, [parent], "w", utcnow(), LEASE) == [parent]
    assert _heads(engine) == []  # the parent is being sent: its lane waits, the child with it


def test_a_more_urgent_message_waits_while_its_lane_is_sending(engine: Engine) -> None:
    reply_parent = _add(engine, "post", FIRST_POST)
    _send(engine, reply_parent)
    reply = _add(engine, "post", HISTORY, ref_id=reply_parent)
    with session_scope(engine) as session:
        assert outbox.claim(session, [reply], "w", utcnow(), LEASE) == [reply]
    urgent = _add(engine, "post", URGENT)
    assert _heads(engine) == []  # one message of a channel at a time: Slack's pace is per channel
    with session_scope(engine) as session:
        assert outbox.claim(session, [urgent], "w2", utcnow(), LEASE) == []
        outbox.mark_sent(session, reply, "w", channel="C1", ts="9.0")
    assert _heads(engine) == [urgent]


def test_a_claim_is_refused_once_a_more_urgent_message_arrived_in_the_lane(engine: Engine) -> None:
    chatter = _add(engine, "post", HISTORY)
    assert _heads(engine) == [chatter]  # a poller read this head …
    urgent = _add(engine, "post", URGENT)  # … then a new incident came in
    with session_scope(engine) as session:
        assert outbox.claim(session, [chatter], "w", utcnow(), LEASE) == []
        assert outbox.claim(session, [urgent], "w", utcnow(), LEASE) == [urgent]


def test_a_file_held_back_on_purpose_does_not_hold_up_its_lane(engine: Engine) -> None:
    post = _add(engine, "post", FIRST_POST)
    _send(engine, post)
    now = utcnow()
    later = now + timedelta(minutes=1)
    held = _add(engine, "upload", FILES, ref_id=post, merge_state={"sha256": "x"}, not_before=later)
    after_it = _add(engine, "upload", FILES, ref_id=post)  # same priority, queued later, not held
    assert _heads(engine) == [after_it]
    _send(engine, after_it)
    assert _heads(engine) == []
    assert _heads(engine, later + timedelta(seconds=1)) == [held]


def test_a_message_backing_off_after_a_failure_still_holds_its_lane(engine: Engine) -> None:
    first = _add(engine, "post", HISTORY, merge_state={"lines": []})
    _add(engine, "post", HISTORY)
    now = utcnow()
    with session_scope(engine) as session:
        outbox.claim(session, [first], "w", now, LEASE)
        outbox.mark_retry(session, first, "w", at=now + timedelta(seconds=30), reason="500", now=now)
    assert _heads(engine, now) == []  # tried once: it keeps its place, and the lane its order
    assert _heads(engine, now + timedelta(seconds=31)) == [first]


def test_heads_of_many_lanes_come_most_urgent_first_and_page(engine: Engine) -> None:
    ids = []
    with session_scope(engine) as session:
        for n, priority in enumerate([HISTORY, URGENT, NORMAL, FIRST_POST]):
            message = NewMessage(kind="post", lane=f"C{n}", payload={}, priority=priority)
            ids.append(outbox.enqueue(session, message).id)
    with session_scope(engine) as session:
        first = outbox.lane_heads(session, utcnow(), limit=2)
        rest = outbox.lane_heads(session, utcnow(), after=(first[-1].priority, first[-1].id or 0))
    assert [m.id for m in first + rest] == [ids[1], ids[3], ids[2], ids[0]]
