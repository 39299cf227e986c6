"""The poster spends Slack's per-workspace budgets (chat.update, files) on what matters first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.metrics import Metrics
from bot.outbox import Outbox, post_message, update_message, upload_file
from bot.slack.api import SlackGateway
from bot.slack.poster import OutboxPoster, PosterSettings, bucket_tokens
from bot.slack_standin.server import SlackStandin
from storage.clock import utcnow
from storage.outbox import FIRST_POST, NORMAL, RESOLUTION
from tests.core.test_poster import Clock


@pytest.fixture
def gateway(standin: SlackStandin):
    slack = SlackGateway("xoxb-test", standin.api_url, Metrics(), timeout=5)
    yield slack
    slack.close()


def _poster(engine: Engine, gateway: SlackGateway, clock: Clock, **settings) -> OutboxPoster:
    chosen = PosterSettings(per_channel_per_second=10, burst=20, workers=8, **settings)
    return OutboxPoster(engine, gateway, chosen, clock=clock, worker_id="test")


def _drain(poster: OutboxPoster) -> None:
    while poster.drain_once():
        pass


def test_edits_within_the_workspace_budget_go_to_resolutions_first(
    engine: Engine, gateway: SlackGateway, standin: SlackStandin
) -> None:
    clock = Clock()
    outbox = Outbox(engine, wake=lambda: None, clock=clock)
    poster = _poster(engine, gateway, clock, updates_per_minute=60, update_burst=2)
    try:
        posts = [
            outbox.send(replace(post_message(f"C{n}", f"group {n}"), priority=FIRST_POST)) for n in range(4)
        ]
        _drain(poster)
        for n, post in enumerate(posts):  # an edit in each channel; the last two resolve their group
            edit = update_message(f"C{n}", post, f"edit {n}")
            outbox.send(replace(edit, priority=RESOLUTION if n >= 2 else NORMAL))
        _drain(poster)
        assert sorted(c.params["text"] for c in standin.calls("chat.update")) == ["edit 2", "edit 3"]
        clock.advance(1.0)  # one more token of the budget: the next edit in line
        _drain(poster)
        assert standin.calls("chat.update")[-1].params["text"] == "edit 0"
        clock.advance(1.0)
        _drain(poster)
        assert len(standin.calls("chat.update")) == 4
        assert all(c.status == 200 for c in standin.calls("chat.update"))  # never over Slack's limit
    finally:
        poster.close()


def test_files_keep_within_their_workspace_budget(
    engine: Engine, gateway: SlackGateway, standin: SlackStandin
) -> None:
    clock = Clock()
    outbox = Outbox(engine, wake=lambda: None, clock=clock)
    poster = _poster(engine, gateway, clock, files_per_minute=60, file_burst=1)
    try:
        for n in range(3):
            outbox.send(upload_file(f"C{n}", f"list-{n}.tsv", "a\tb\n"))
        _drain(poster)
        assert len(standin.files()) == 1
        clock.advance(1.0)
        _drain(poster)
        assert len(standin.files()) == 2
    finally:
        poster.close()


def test_a_bucket_sent_to_at_its_pace_has_no_burst_left_and_fills_after_a_quiet_spell() -> None:
    now = utcnow()
    since = now - timedelta(seconds=60)
    burst_then_paced = [now - timedelta(seconds=s) for s in (30, 30, 30, *range(29, 0, -1))]
    assert bucket_tokens(burst_then_paced, now, 1.0, 3, since) == pytest.approx(1.0)  # as Slack counts
    quiet = [now - timedelta(seconds=s) for s in range(30, 10, -1)]  # then ten quiet seconds
    assert bucket_tokens(quiet, now, 1.0, 3, since) == 3.0
    assert bucket_tokens([], now, 1.0, 3, since) == 3.0
    burst = [now - timedelta(seconds=0.1)] * 3
    assert bucket_tokens(burst, now, 1.0, 3, since) == pytest.approx(0.1)
