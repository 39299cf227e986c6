"""The outbox poster against the Slack stand-in, with time held still by an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.metrics import Metrics
from bot.outbox import Outbox, ephemeral, post_message, respond, update_message, upload_file
from bot.slack.api import SlackGateway
from bot.slack.poster import OutboxPoster, PosterSettings
from bot.slack_standin.server import SlackStandin
from storage import outbox as repo
from storage.clock import utcnow
from storage.db import session_scope
from storage.outbox import OutboxMessage


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gateway(standin: SlackStandin):
    slack = SlackGateway("xoxb-test", standin.api_url, Metrics(), timeout=5)
    yield slack
    slack.close()


@pytest.fixture
def poster(sqlite_engine: Engine, gateway: SlackGateway, clock: Clock):
    running = OutboxPoster(sqlite_engine, gateway, PosterSettings(burst=3), clock=clock, worker_id="test")
    yield running
    running.close()


def _send(engine: Engine, *messages, clock=utcnow) -> list[int]:
    outbox = Outbox(engine, wake=lambda: None, clock=clock)
    return [outbox.send(m) for m in messages]


def _row(engine: Engine, message_id: int) -> OutboxMessage:
    with session_scope(engine) as session:
        row = repo.get(session, message_id)
        assert row is not None
        return row


def _texts(standin: SlackStandin, channel: str) -> list[str]:
    return [m.text for m in standin.messages(channel)]


def test_a_post_is_delivered_once_and_its_ts_recorded(sqlite_engine, poster, standin, clock) -> None:
    [message_id] = _send(sqlite_engine, post_message("C1", "hello"), clock=clock)
    assert poster.drain_once() == 1
    assert poster.drain_once() == 0
    row = _row(sqlite_engine, message_id)
    assert (row.status, row.slack_channel, row.slack_ts) == ("sent", "C1", standin.messages("C1")[0].ts)
    assert _texts(standin, "C1") == ["hello"]


def test_429_waits_for_retry_after_and_keeps_channel_order(sqlite_engine, poster, standin, clock) -> None:
    standin.fail_next("chat.postMessage", status=429, retry_after=7)
    first, second = _send(
        sqlite_engine, post_message("C1", "first"), post_message("C1", "second"), clock=clock
    )
    poster.drain_once()
    row = _row(sqlite_engine, first)
    assert row.status == "pending" and row.next_attempt_at == clock.now + timedelta(seconds=7)
    clock.advance(6)
    assert poster.drain_once() == 0  # neither the 429'd message nor the one behind it may go yet
    clock.advance(1)
    poster.drain_once()
    poster.drain_once()
    assert _texts(standin, "C1") == ["first", "second"]
    assert _row(sqlite_engine, second).status == "sent"


def test_server_errors_back_off_exponentially_then_deliver(sqlite_engine, poster, standin, clock) -> None:
    standin.fail_next("chat.postMessage", status=500, times=3)
    [message_id] = _send(sqlite_engine, post_message("C1", "eventually"), clock=clock)
    delays = []
    for _ in range(3):
        poster.drain_once()
        row = _row(sqlite_engine, message_id)
        delays.append((row.next_attempt_at - clock.now).total_seconds())
        clock.advance(delays[-1])
    poster.drain_once()
    assert delays == [1.0, 2.0, 4.0]
    assert _texts(standin, "C1") == ["eventually"]
    assert _row(sqlite_engine, message_id).attempts == 4


def test_a_missing_channel_is_dead_at_once_and_blocks_nothing(sqlite_engine, poster, standin, clock) -> None:
    standin.set_missing_channel("CGONE")
    dead, alive = _send(sqlite_engine, post_message("CGONE", "lost"), post_message("C1", "fine"), clock=clock)
    poster.drain_once()
    poster.drain_once()
    row = _row(sqlite_engine, dead)
    assert (row.status, row.last_error, row.attempts) == ("dead", "channel_not_found", 1)
    assert _row(sqlite_engine, alive).status == "sent"
    assert len(standin.calls("chat.postMessage")) == 2


def test_each_channel_is_paced_with_a_small_burst(sqlite_engine, poster, standin, clock) -> None:
    posts = [post_message("C1", f"m{i}") for i in range(5)]
    _send(sqlite_engine, *posts, post_message("C2", "other"), clock=clock)
    for _ in range(6):
        poster.drain_once()
    assert _texts(standin, "C1") == ["m0", "m1", "m2"]  # burst of 3, then one a second
    assert _texts(standin, "C2") == ["other"]
    clock.advance(3)
    for _ in range(3):
        poster.drain_once()
    assert _texts(standin, "C1") == ["m0", "m1", "m2", "m3", "m4"]


def test_an_edit_and_a_thread_reply_find_their_parent_ts(sqlite_engine, poster, standin, clock) -> None:
    outbox = Outbox(sqlite_engine, wake=lambda: None, clock=clock)
    parent = outbox.send(post_message("C1", "RetryBurst firing"))
    outbox.send(post_message("C1", "2 of 3 resolved", thread_of=parent))
    outbox.send(update_message("C1", parent, "RetryBurst resolved"))
    for _ in range(3):
        poster.drain_once()
    parent_ts = _row(sqlite_engine, parent).slack_ts
    top, reply = standin.messages("C1")
    assert (top.ts, top.text) == (parent_ts, "RetryBurst resolved")
    assert (reply.thread_ts, reply.text) == (parent_ts, "2 of 3 resolved")


def test_an_edit_of_a_message_that_died_dies_with_a_reason(sqlite_engine, poster, standin, clock) -> None:
    standin.set_missing_channel("CGONE")
    outbox = Outbox(sqlite_engine, wake=lambda: None, clock=clock)
    parent = outbox.send(post_message("CGONE", "never"))
    edit = outbox.send(update_message("CGONE", parent, "edit"))
    poster.drain_once()
    poster.drain_once()
    assert "was never delivered" in (_row(sqlite_engine, edit).last_error or "")


def test_response_url_replies_and_files_go_through_the_outbox(sqlite_engine, poster, standin, clock) -> None:
    url = standin.response_url("cmd-1")
    _send(
        sqlite_engine, respond(url, "status: fine"), upload_file("C1", "report.md", "# Report\n"), clock=clock
    )
    poster.drain_once()
    assert standin.responses("cmd-1")[0]["text"] == "status: fine"
    assert standin.files()[0].data == b"# Report\n"


def test_an_expired_response_url_is_dead_not_retried(sqlite_engine, poster, standin, clock) -> None:
    url = standin.response_url("old")
    standin.fail_response_url("old", 404)
    [message_id] = _send(sqlite_engine, respond(url, "too late"), clock=clock)
    poster.drain_once()
    assert _row(sqlite_engine, message_id).status == "dead"


def test_network_errors_are_retried(sqlite_engine, clock) -> None:
    unreachable = SlackGateway("xoxb-test", "http://127.0.0.1:1/api/", Metrics(), timeout=2)
    poster = OutboxPoster(sqlite_engine, unreachable, clock=clock, worker_id="t")
    [message_id] = _send(sqlite_engine, post_message("C1", "hello"), clock=clock)
    poster.drain_once()
    poster.close()
    row = _row(sqlite_engine, message_id)
    assert row.status == "pending" and (row.last_error or "").startswith("network error")


def test_a_message_failing_for_a_day_is_given_up(sqlite_engine, poster, standin, clock) -> None:
    [message_id] = _send(sqlite_engine, post_message("C1", "doomed"), clock=clock)
    standin.fail_next("chat.postMessage", status=503, times=2)
    poster.drain_once()
    assert _row(sqlite_engine, message_id).status == "pending"
    clock.advance(24 * 3600 + 1)
    poster.drain_once()
    row = _row(sqlite_engine, message_id)
    assert row.status == "dead" and "gave up after 2 attempts" in (row.last_error or "")


def test_an_old_backlog_is_not_given_up_on_its_first_failure(sqlite_engine, poster, standin, clock) -> None:
    [message_id] = _send(sqlite_engine, post_message("C1", "queued while IRIS was down"), clock=clock)
    clock.advance(3 * 24 * 3600)
    standin.fail_next("chat.postMessage", status=500)
    poster.drain_once()
    assert _row(sqlite_engine, message_id).status == "pending"
    clock.advance(1)
    poster.drain_once()
    assert _texts(standin, "C1") == ["queued while IRIS was down"]


def test_rate_limits_never_kill_a_message(sqlite_engine, poster, standin, clock) -> None:
    [message_id] = _send(sqlite_engine, post_message("C1", "patient"), clock=clock)
    standin.fail_next("chat.postMessage", status=500)
    poster.drain_once()
    clock.advance(25 * 3600)
    standin.fail_next("chat.postMessage", status=429, retry_after=5)
    poster.drain_once()
    assert _row(sqlite_engine, message_id).status == "pending"


def test_a_429_holds_only_that_channel(sqlite_engine, poster, standin, clock) -> None:
    standin.fail_next("chat.postMessage", status=429, retry_after=30)
    _send(sqlite_engine, post_message("CBUSY", "held"), clock=clock)
    poster.drain_once()
    _send(sqlite_engine, post_message("CBUSY", "also held"), post_message("CQUIET", "goes"), clock=clock)
    poster.drain_once()
    assert _texts(standin, "CQUIET") == ["goes"] and _texts(standin, "CBUSY") == []
    clock.advance(30)
    for _ in range(2):
        poster.drain_once()
    assert _texts(standin, "CBUSY") == ["held", "also held"]


def test_a_refused_token_holds_everything_and_loses_nothing(sqlite_engine, poster, standin, clock) -> None:
    standin.fail_next("chat.postMessage", error="token_revoked")
    [first] = _send(sqlite_engine, post_message("C1", "one"), clock=clock)
    poster.drain_once()
    [second] = _send(sqlite_engine, post_message("C2", "two"), clock=clock)
    poster.drain_once()
    assert {_row(sqlite_engine, first).status, _row(sqlite_engine, second).status} == {"pending"}
    assert "token_revoked" in (_row(sqlite_engine, first).last_error or "")
    assert len(standin.calls("chat.postMessage")) == 1  # nothing else tried while the token is refused
    clock.advance(60)
    for _ in range(2):
        poster.drain_once()
    assert _texts(standin, "C1") == ["one"] and _texts(standin, "C2") == ["two"]


def test_after_the_burst_a_channel_gets_one_message_a_second(sqlite_engine, poster, standin, clock) -> None:
    _send(sqlite_engine, *[post_message("C1", f"m{i}") for i in range(6)], clock=clock)
    for _ in range(6):
        poster.drain_once()
    assert len(_texts(standin, "C1")) == 3
    clock.advance(1)
    for _ in range(6):
        poster.drain_once()
    assert len(_texts(standin, "C1")) == 4


def test_posts_and_uploads_share_a_channels_pace(sqlite_engine, poster, standin, clock) -> None:
    _send(
        sqlite_engine,
        post_message("C1", "a"),
        post_message("C1", "b"),
        upload_file("C1", "x.md", "x"),
        upload_file("C1", "y.md", "y"),
        clock=clock,
    )
    for _ in range(4):
        poster.drain_once()
    assert len(_texts(standin, "C1")) + len(standin.files()) == 3


def test_an_ephemeral_does_not_wait_behind_a_backed_off_post(sqlite_engine, poster, standin, clock) -> None:
    standin.fail_next("chat.postMessage", status=500)
    _send(
        sqlite_engine, post_message("C1", "backing off"), ephemeral("C1", "U1", "just for you"), clock=clock
    )
    poster.drain_once()
    poster.drain_once()
    assert [m.text for m in standin.ephemerals("C1")] == ["just for you"]


def test_a_clean_close_hands_claims_back(sqlite_engine, gateway, clock) -> None:
    stalled = OutboxPoster(sqlite_engine, gateway, clock=clock, worker_id="stalled")
    [message_id] = _send(sqlite_engine, post_message("C1", "x"), clock=clock)
    assert [m.id for m in stalled._claim(clock.now)] == [message_id]
    stalled.close()
    row = _row(sqlite_engine, message_id)
    assert (row.status, row.claimed_by, row.attempts) == ("pending", None, 0)


def test_a_crashed_pollers_claim_is_taken_over_after_its_lease(sqlite_engine, poster, standin, clock) -> None:
    crashed = OutboxPoster(
        sqlite_engine, SlackGateway("xoxb-test", standin.api_url, Metrics()), clock=clock, worker_id="crashed"
    )
    _send(sqlite_engine, post_message("C1", "orphan"), clock=clock)
    crashed._claim(clock.now)  # claimed, then the process "dies" without sending
    assert poster.drain_once() == 0
    clock.advance(61)
    assert poster.drain_once() == 1
    assert _texts(standin, "C1") == ["orphan"]


def test_a_database_hiccup_while_recording_does_not_send_twice(
    sqlite_engine, poster, standin, clock, monkeypatch
) -> None:
    real, failures = repo.mark_sent, [OperationalError("UPDATE", {}, Exception("database is locked"))]

    def flaky_mark_sent(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(repo, "mark_sent", flaky_mark_sent)
    monkeypatch.setattr("bot.slack.poster.RECORD_RETRY_PAUSES", (0.0, 0.0))
    [message_id] = _send(sqlite_engine, post_message("C1", "once"), clock=clock)
    poster.drain_once()
    clock.advance(120)
    poster.drain_once()
    assert _row(sqlite_engine, message_id).status == "sent"
    assert _texts(standin, "C1") == ["once"]


def test_nothing_can_thread_under_a_file_upload(sqlite_engine, poster, standin, clock) -> None:
    outbox = Outbox(sqlite_engine, wake=lambda: None, clock=clock)
    upload = outbox.send(upload_file("C1", "r.md", "# r"))
    reply = outbox.send(post_message("C1", "about the file", thread_of=upload))
    poster.drain_once()
    poster.drain_once()
    assert _row(sqlite_engine, upload).slack_file_id == standin.files()[0].id
    assert "file upload" in (_row(sqlite_engine, reply).last_error or "")
