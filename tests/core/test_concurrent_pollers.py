"""Two pollers draining one database: every message reaches Slack exactly once, in channel order."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.metrics import Metrics
from bot.outbox import Outbox, post_message
from bot.slack.api import SlackGateway
from bot.slack.poster import OutboxPoster, PosterSettings
from bot.slack_standin.server import SlackStandin
from storage import outbox as repo
from storage.db import open_engine, session_scope

CHANNELS = [f"C{n:03d}" for n in range(12)]
PER_CHANNEL = 10
# Pacing is lifted so the race between the two pollers is the thing under test.
SETTINGS = PosterSettings(burst=1000, per_channel_per_second=10, workers=4)


@pytest.fixture
def poller_engines(db: tuple[Engine, str]) -> Iterator[list[Engine]]:
    """One engine per poller, as two IRIS replicas would have; disposed whatever the test's outcome."""
    engines = [open_engine(db[1]) for _ in range(2)]
    yield engines
    for engine in engines:
        engine.dispose()


def _poller(engine: Engine, standin: SlackStandin, name: str) -> OutboxPoster:
    gateway = SlackGateway("xoxb-test", standin.api_url, Metrics(), timeout=5)
    return OutboxPoster(engine, gateway, SETTINGS, worker_id=name)


def _drain_until_empty(
    poster: OutboxPoster,
    engine: Engine,
    stop: threading.Event,
    delivered: Counter[str],
    errors: list[BaseException],
) -> None:
    try:
        while not stop.is_set():
            delivered[poster.worker_id] += poster.drain_once()
            with session_scope(engine) as session:
                if repo.depth(session) == 0:
                    stop.set()
    except BaseException as exc:  # reported by the test; a thread's exception would only be a warning
        errors.append(exc)
        stop.set()


def test_two_pollers_send_every_message_exactly_once(
    db: tuple[Engine, str], standin: SlackStandin, poller_engines: list[Engine]
) -> None:
    engine, _ = db
    outbox = Outbox(engine, wake=lambda: None)
    for round_ in range(PER_CHANNEL):
        for channel in CHANNELS:
            outbox.send(post_message(channel, f"{channel}/{round_}"))
    standin.block("chat.postMessage")
    pollers = [_poller(e, standin, name) for e, name in zip(poller_engines, ["alpha", "beta"], strict=True)]
    stop, delivered, errors = threading.Event(), Counter[str](), list[BaseException]()
    threads = [
        threading.Thread(target=_drain_until_empty, args=(poller, engine, stop, delivered, errors))
        for poller in pollers
    ]
    for thread in threads:
        thread.start()
    try:
        # A poller has `workers` threads, so it holds at most that many calls open at once: more calls
        # held than that means both pollers are sending at the same moment, racing for the same rows.
        # (12 lanes and at most 2 * workers claimed per pass leave the second poller lanes to take.)
        standin.wait_for(lambda s: s.in_flight("chat.postMessage") > SETTINGS.workers)
    except BaseException:
        stop.set()
        raise
    finally:
        standin.unblock("chat.postMessage")
        for thread in threads:
            thread.join(timeout=60)
    assert [thread.is_alive() for thread in threads] == [False, False]
    for poller in pollers:
        poller.close()

    assert errors == []
    sent = [m.text for m in standin.messages()]
    assert len(sent) == len(CHANNELS) * PER_CHANNEL
    assert max(Counter(sent).values()) == 1
    for channel in CHANNELS:
        assert [m.text for m in standin.messages(channel)] == [f"{channel}/{r}" for r in range(PER_CHANNEL)]
    with session_scope(engine) as session:
        assert repo.count_by_status(session) == {"sent": len(CHANNELS) * PER_CHANNEL}
    assert delivered["alpha"] > 0 and delivered["beta"] > 0
