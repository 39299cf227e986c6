"""The outbox end to end: 429s, 500s and a server restart lose nothing, duplicate nothing, keep order."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine

from bot.outbox import Outbox, post_message
from bot.testing.slack_standin import SlackStandin
from storage import outbox
from storage.db import open_engine, session_scope
from tests.e2e.conftest import IrisServer, eventually

CHANNELS = ("C0OPS", "C0INCIDENT")


def _enqueue(engine: Engine, first: int, last: int) -> None:
    queue = Outbox(engine, wake=lambda: None)  # the server's poller finds rows by itself
    for n in range(first, last):
        for channel in CHANNELS:
            queue.send(post_message(channel, f"{channel} #{n}"))


def test_messages_survive_rate_limits_errors_and_a_restart(iris: IrisServer, standin: SlackStandin) -> None:
    engine = open_engine(iris.env["IRIS_DATABASE_URL"])
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    standin.fail_next("chat.postMessage", status=500, times=2)
    _enqueue(engine, 0, 3)
    standin.wait_for_calls("chat.postMessage", 3)  # the 429 and both 500s were answered
    iris.stop()  # SIGTERM with messages still waiting in the outbox
    assert "IRIS stopped; undelivered messages stay in the outbox" in iris.log.read_text()

    _enqueue(engine, 3, 6)  # queued while IRIS is down
    with session_scope(engine) as session:
        assert outbox.depth(session) > 0
    iris.start()
    standin.wait_for(lambda s: len(s.messages()) == 6 * len(CHANNELS), timeout=60)

    texts = [m.text for m in standin.messages()]
    assert max(Counter(texts).values()) == 1
    for channel in CHANNELS:
        assert [m.text for m in standin.messages(channel)] == [f"{channel} #{n}" for n in range(6)]
    statuses = [c.status for c in standin.calls("chat.postMessage")]
    assert statuses.count(429) == 1 and statuses.count(500) == 2
    assert eventually(lambda: _counts(engine) == {"sent": 6 * len(CHANNELS)}), _counts(engine)
    engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return outbox.count_by_status(session)
