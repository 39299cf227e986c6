"""The outbox repository on SQLite and PostgreSQL: lanes, claims, leases and dead letters."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from storage import fit, outbox
from storage.clock import utcnow
from storage.db import open_engine, session_scope
from storage.outbox import NewMessage
from tests import lengths

LEASE = timedelta(seconds=60)


def _add(engine: Engine, lane: str, text: str, **extra) -> int:
    with session_scope(engine) as session:
        row = outbox.enqueue(session, NewMessage(kind="post", lane=lane, payload={"text": text}, **extra))
        assert row.id is not None
        return row.id


def _claim(engine: Engine, *ids: int, worker: str = "w") -> None:
    with session_scope(engine) as session:
        assert outbox.claim(session, list(ids), worker, utcnow(), LEASE) == list(ids)


def _heads(engine: Engine, now=None) -> list[int]:
    with session_scope(engine) as session:
        return [m.id for m in outbox.lane_heads(session, now or utcnow())]  # type: ignore[misc]


def test_repeated_dedupe_key_returns_the_first_row(engine: Engine) -> None:
    first = _add(engine, "C1", "one", dedupe_key="alert:42")
    again = _add(engine, "C1", "one again", dedupe_key="alert:42")
    assert again == first
    with session_scope(engine) as session:
        assert outbox.depth(session) == 1


def test_only_the_oldest_message_of_each_lane_is_a_head(engine: Engine) -> None:
    a1, a2 = _add(engine, "CA", "a1"), _add(engine, "CA", "a2")
    b1 = _add(engine, "CB", "b1")
    assert _heads(engine) == [a1, b1]
    _claim(engine, a1)
    with session_scope(engine) as session:
        assert outbox.mark_sent(session, a1, "w", channel="CA", ts="1.1")
    assert _heads(engine) == [a2, b1]


def test_a_message_waiting_for_retry_holds_back_its_lane(engine: Engine) -> None:
    first, _second = _add(engine, "CA", "first"), _add(engine, "CA", "second")
    now = utcnow()
    with session_scope(engine) as session:
        outbox.claim(session, [first], "w1", now, LEASE)
        outbox.mark_retry(session, first, "w1", at=now + timedelta(seconds=30), reason="500", now=now)
    assert _heads(engine, now) == []
    assert _heads(engine, now + timedelta(seconds=31)) == [first]


def test_a_row_is_claimed_by_one_worker_only(engine: Engine) -> None:
    message = _add(engine, "CA", "x")
    now = utcnow()
    with session_scope(engine) as session:
        assert outbox.claim(session, [message], "w1", now, LEASE) == [message]
    with session_scope(engine) as session:
        assert outbox.claim(session, [message], "w2", now, LEASE) == []
        assert outbox.get(session, message).claimed_by == "w1"  # type: ignore[union-attr]


def test_a_claim_is_refused_for_a_row_that_is_no_longer_its_lanes_head(engine: Engine) -> None:
    first, second = _add(engine, "CA", "1"), _add(engine, "CA", "2")
    with session_scope(engine) as session:  # e.g. read as heads by a poller before `first` was requeued
        assert outbox.claim(session, [second, first], "w", utcnow(), LEASE) == [first]
    with session_scope(engine) as session:
        assert outbox.claim(session, [second], "w", utcnow(), LEASE) == []  # first is being sent


def test_expired_leases_are_given_back_and_live_ones_are_not(engine: Engine) -> None:
    message = _add(engine, "CA", "x")
    now = utcnow()
    with session_scope(engine) as session:
        outbox.claim(session, [message], "crashed-worker", now, LEASE)
    with session_scope(engine) as session:
        assert outbox.reclaim_expired(session, now + timedelta(seconds=30)) == 0
        assert outbox.reclaim_expired(session, now + timedelta(seconds=61)) == 1
        assert outbox.get(session, message).status == outbox.PENDING  # type: ignore[union-attr]


def test_release_hands_back_only_this_workers_claims(engine: Engine) -> None:
    mine, theirs = _add(engine, "CA", "mine"), _add(engine, "CB", "theirs")
    now = utcnow()
    with session_scope(engine) as session:
        outbox.claim(session, [mine], "me", now, LEASE)
        outbox.claim(session, [theirs], "them", now, LEASE)
    with session_scope(engine) as session:
        assert outbox.release(session, "me") == 1
        assert outbox.get(session, mine).attempts == 0  # type: ignore[union-attr]
        assert outbox.get(session, theirs).status == outbox.SENDING  # type: ignore[union-attr]


def test_dead_letters_are_counted_listed_and_requeued(engine: Engine) -> None:
    dead, alive = _add(engine, "CA", "dead"), _add(engine, "CB", "alive")
    _claim(engine, dead)
    with session_scope(engine) as session:
        outbox.mark_dead(session, dead, "w", "channel_not_found")
    with session_scope(engine) as session:
        assert outbox.count_by_status(session) == {"dead": 1, "pending": 1}
        assert outbox.depth(session) == 1
        assert [(m.id, m.last_error) for m in outbox.dead_letters(session)] == [(dead, "channel_not_found")]
        assert outbox.requeue_dead(session, [alive], utcnow()) == []
        assert outbox.requeue_dead(session, None, utcnow()) == [dead]
    assert sorted(_heads(engine)) == sorted([dead, alive])


def test_pacing_window_lists_recent_sends_of_a_lane(engine: Engine) -> None:
    ids = [_add(engine, "CA", str(i)) for i in range(3)]
    other = _add(engine, "CB", "elsewhere")
    for message_id in [*ids, other]:  # one at a time: only a lane's head can be claimed
        _claim(engine, message_id)
        with session_scope(engine) as session:
            outbox.mark_sent(session, message_id, "w", channel="C", ts="1")
    with session_scope(engine) as session:
        recent = outbox.sent_since(session, "CA", ("post", "upload"), utcnow() - timedelta(seconds=5))
    assert len(recent) == 3


def test_payload_round_trips_unicode(engine: Engine) -> None:
    message = _add(engine, "CA", "리허설 성공률 100% ✅")
    with session_scope(engine) as session:
        assert "리허설 성공률 100% ✅" in outbox.get(session, message).payload  # type: ignore[union-attr]


def test_an_outcome_is_recorded_only_by_the_worker_holding_the_claim(engine: Engine) -> None:
    message = _add(engine, "CA", "x")
    _claim(engine, message, worker="stalled")
    with session_scope(engine) as session:
        outbox.reclaim_expired(session, utcnow() + timedelta(seconds=61))
    _claim(engine, message, worker="fresh")
    with session_scope(engine) as session:
        assert not outbox.mark_sent(session, message, "stalled", channel="CA", ts="1.1")
        assert outbox.mark_sent(session, message, "fresh", channel="CA", ts="1.2")
        assert outbox.get(session, message).slack_ts == "1.2"  # type: ignore[union-attr]


def test_failing_since_is_kept_across_retries_and_cleared_by_requeue(engine: Engine) -> None:
    message = _add(engine, "CA", "x")
    first_failure = utcnow()
    for offset in (0, 10):
        _claim(engine, message)
        with session_scope(engine) as session:
            moment = first_failure + timedelta(seconds=offset)
            outbox.mark_retry(session, message, "w", at=moment, reason="500", now=moment)
    with session_scope(engine) as session:
        row = outbox.get(session, message)
        assert row is not None and row.failing_since == first_failure
        outbox.kill(session, message, "gave up")
        outbox.requeue_dead(session, None, utcnow())
    with session_scope(engine) as session:
        assert outbox.get(session, message).failing_since is None  # type: ignore[union-attr]


def test_concurrent_enqueues_of_one_dedupe_key_yield_one_row(db: tuple[Engine, str]) -> None:
    engine, url = db
    other = open_engine(url)
    try:
        with session_scope(engine) as first, session_scope(other) as second:
            a = outbox.enqueue(first, NewMessage(kind="post", lane="C1", payload={}, dedupe_key="k"))
            if engine.dialect.name == "postgresql":  # SQLite serialises writers; PostgreSQL races them
                b_id = _enqueue_in_thread(second, "k")
                first.commit()
                assert b_id.result(timeout=10) == a.id
    finally:
        other.dispose()
    with session_scope(engine) as session:
        assert outbox.depth(session) == 1


def _enqueue_in_thread(session, key: str):  # type: ignore[no-untyped-def]
    """The second insert blocks on the first's uncommitted key, then finds it (no UniqueViolation)."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    future = pool.submit(
        lambda: outbox.enqueue(session, NewMessage(kind="post", lane="C1", payload={}, dedupe_key=key)).id
    )
    pool.shutdown(wait=False)
    return future


@pytest.mark.parametrize("case", lengths.CORPUS["hostile"], ids=lambda case: case["name"])
def test_any_lane_key_and_payload_is_stored(engine: Engine, case: dict[str, object]) -> None:
    value = lengths.value(case)
    message = NewMessage(kind="post", lane=value, payload={"text": value}, dedupe_key=value)
    with session_scope(engine) as session:
        first = outbox.enqueue(session, message)
        again = outbox.enqueue(session, message)  # the same long key is still the same key
    assert again.id == first.id
    assert len(first.lane) <= outbox.MAX_KEY and first.lane == first.dedupe_key == outbox.stored_key(value)
    assert (first.lane == value) == (len(value) <= outbox.MAX_KEY and fit.clean(value) == value)
    # JSON itself escapes NUL, so it comes back; only a lone surrogate (no encoding has it) is replaced.
    kept = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    assert json.loads(first.payload) == {"text": kept}
