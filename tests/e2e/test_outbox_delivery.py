"""The outbox end to end: 429s, 500s and a server restart lose nothing, duplicate nothing, keep order."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.outbox import Outbox, post_message
from bot.slack_standin.server import SlackStandin
from storage import outbox
from storage.db import session_scope
from storage.outbox import OutboxMessage
from tests.e2e.conftest import IrisServer, eventually

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

CHANNELS = ("C0OPS", "C0INCIDENT")


def _enqueue(engine: Engine, first: int, last: int) -> None:
    queue = Outbox(engine, wake=lambda: None)  # the server's poller finds rows by itself
    for n in range(first, last):
        for channel in CHANNELS:
            queue.send(post_message(channel, f"{channel} #{n}"))


def test_messages_survive_rate_limits_errors_and_a_restart(
    iris: IrisServer, standin: SlackStandin, iris_db: Engine
) -> None:
    engine = iris_db
    first_batch = 3 * len(CHANNELS)
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    # Far more failures than the first server can use up: none of the first batch is delivered by it.
    standin.fail_next("chat.postMessage", status=500, times=1000)
    _enqueue(engine, 0, 3)
    standin.wait_for_calls("chat.postMessage", 3)  # the 429 and two 500s were answered
    iris.stop()  # SIGTERM with messages still waiting in the outbox
    assert "IRIS stopped; undelivered messages stay in the outbox" in iris.log.read_text()
    tried = [c.status for c in standin.calls("chat.postMessage")]
    assert tried.count(429) == 1 and tried.count(500) >= 2 and set(tried) == {429, 500}
    assert standin.messages() == []
    assert _depth(engine) == first_batch  # all still waiting, none lost
    assert _tried_and_waiting(engine) == len(CHANNELS)  # each channel's first message failed and waits

    standin.clear_failures()  # Slack recovers; the calls recorded so far stay
    _enqueue(engine, 3, 6)  # queued while IRIS is down
    assert _depth(engine) == 2 * first_batch
    iris.start()
    standin.wait_for(lambda s: len(s.messages()) == 6 * len(CHANNELS), timeout=60)

    texts = [m.text for m in standin.messages()]
    assert max(Counter(texts).values()) == 1
    for channel in CHANNELS:
        assert [m.text for m in standin.messages(channel)] == [f"{channel} #{n}" for n in range(6)]
    statuses = [c.status for c in standin.calls("chat.postMessage")]
    assert statuses == tried + [200] * (6 * len(CHANNELS))  # after the restart, each message once
    assert eventually(lambda: _counts(engine) == {"sent": 6 * len(CHANNELS)}), _counts(engine)


def _tried_and_waiting(engine: Engine) -> int:
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        return sum(1 for row in rows if row.attempts > 0)


def _depth(engine: Engine) -> int:
    with session_scope(engine) as session:
        return outbox.depth(session)


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return outbox.count_by_status(session)
