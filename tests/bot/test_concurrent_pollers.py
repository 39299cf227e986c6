"""Two pollers draining one database: every message reaches Slack exactly once, in channel order."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine

from bot.metrics import Metrics
from bot.outbox import Outbox, post_message
from bot.poster import OutboxPoster, PosterSettings
from bot.slack_api import SlackGateway
from bot.testing.slack_standin import SlackStandin
from storage import outbox as repo
from storage.db import open_engine, session_scope

CHANNELS = [f"C{n:03d}" for n in range(12)]
PER_CHANNEL = 10


def _poller(url: str, standin: SlackStandin, name: str) -> OutboxPoster:
    # Pacing is lifted so the race between the two pollers is the thing under test.
    settings = PosterSettings(burst=1000, per_channel_per_second=10, workers=4)
    gateway = SlackGateway("xoxb-test", standin.api_url, Metrics(), timeout=5)
    return OutboxPoster(open_engine(url), gateway, settings, worker_id=name)


def _drain_until_empty(poster: OutboxPoster, engine: Engine, stop: threading.Event,
                       delivered: Counter[str]) -> None:
    while not stop.is_set():
        delivered[poster.worker_id] += poster.drain_once()
        with session_scope(engine) as session:
            if repo.depth(session) == 0:
                stop.set()


def test_two_pollers_send_every_message_exactly_once(db: tuple[Engine, str], standin: SlackStandin) -> None:
    engine, url = db
    outbox = Outbox(engine, wake=lambda: None)
    for round_ in range(PER_CHANNEL):
        for channel in CHANNELS:
            outbox.send(post_message(channel, f"{channel}/{round_}"))
    standin.set_latency("chat.postMessage", 0.01)  # widen the window in which both could grab a row
    pollers = [_poller(url, standin, "alpha"), _poller(url, standin, "beta")]
    stop, delivered = threading.Event(), Counter[str]()
    threads = [threading.Thread(target=_drain_until_empty, args=(poller, engine, stop, delivered))
               for poller in pollers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for poller in pollers:
        poller.close()

    sent = [m.text for m in standin.messages()]
    assert len(sent) == len(CHANNELS) * PER_CHANNEL
    assert max(Counter(sent).values()) == 1
    for channel in CHANNELS:
        assert [m.text for m in standin.messages(channel)] == [f"{channel}/{r}" for r in range(PER_CHANNEL)]
    with session_scope(engine) as session:
        assert repo.count_by_status(session) == {"sent": len(CHANNELS) * PER_CHANNEL}
    assert delivered["alpha"] > 0 and delivered["beta"] > 0  # both really raced for the rows
