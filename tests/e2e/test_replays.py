"""A signed Slack request acts once: the same bytes sent again within Slack's window are refused (409),
and Slack's own retry of a request already handled is acknowledged without acting again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage.briefings import Briefing
from storage.db import read_scope
from tests.e2e.conftest import ADMIN, IrisServer, database_of, driving, eventually, running, server_env

pytestmark = pytest.mark.e2e

ALREADY = "This Slack request was already handled; a repeated request is not acted on again."


@pytest.fixture
def slack(iris_each_db: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(iris_each_db, standin)


@pytest.fixture
def server_db(iris_each_db: IrisServer) -> Iterator[Engine]:
    yield from database_of(iris_each_db)


def _briefing_titles(engine: Engine) -> list[str]:
    with read_scope(engine) as session:
        return [b.title for b in session.exec(select(Briefing)).all()]


def test_a_replayed_command_is_refused_and_schedules_once(slack: SlackDriver, server_db: Engine) -> None:
    request = slack.build_command('brief add "Replayed" in 2h', user_id=ADMIN)
    first = slack.send(request)
    assert first.status_code == 200 and "is scheduled for" in slack.answer_text(first)
    for _ in range(2):
        again = slack.send(request)
        assert (again.status_code, again.json()) == (409, {"error": ALREADY})
    assert _briefing_titles(server_db) == ["Replayed"]


def test_slacks_retry_of_a_handled_request_is_acknowledged_without_acting(
    slack: SlackDriver, server_db: Engine
) -> None:
    request = slack.build_command('brief add "Retried" in 2h', user_id=ADMIN)
    assert slack.send(request).status_code == 200
    retry = slack.raw(
        request.body, request.headers | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}
    )
    assert (retry.status_code, retry.body, retry.headers.get("x-slack-no-retry")) == (200, "", "1")
    assert _briefing_titles(server_db) == ["Retried"]


def test_a_retry_whose_first_delivery_never_arrived_acts(slack: SlackDriver, server_db: Engine) -> None:
    request = slack.build_command('brief add "Only the retry arrived" in 2h', user_id=ADMIN)
    retry = slack.raw(request.body, request.headers | {"X-Slack-Retry-Num": "2"})
    assert retry.status_code == 200 and retry.headers.get("x-slack-no-retry") is None
    # The 200 is the ack; the command acts after it, in the server's job.
    assert eventually(lambda: _briefing_titles(server_db)) == ["Only the retry arrived"]


def test_a_replayed_click_is_refused(slack: SlackDriver) -> None:
    click = slack.build_block_action("checklist_sign", "1:1", user_id=ADMIN)
    assert slack.send(click).status_code == 200
    replayed = slack.send(click)
    assert (replayed.status_code, replayed.json()) == (409, {"error": ALREADY})


@pytest.mark.postgres
def test_a_replay_to_another_replica_is_acked_but_acts_once(
    standin: SlackStandin, tmp_path: Path, postgres_url: str, engine_for_postgres_server: Engine
) -> None:
    env = server_env(standin, tmp_path, IRIS_DATABASE_URL=postgres_url)
    first, second = (tmp_path / "a", tmp_path / "b")
    for folder in (first, second):
        folder.mkdir()
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(contextlib.contextmanager(running)(env | {}, folder))
            for folder in (first, second)
        ]
        drivers = [
            stack.enter_context(contextlib.contextmanager(driving)(server, standin)) for server in servers
        ]
        request = drivers[0].build_command('brief add "Two replicas" in 2h', user_id=ADMIN)
        assert drivers[0].send(request).status_code == 200
        assert drivers[1].send(request).status_code == 200  # the other replica has not seen it: acked
        assert eventually(lambda: "did not act on a replayed Slack request" in servers[1].log.read_text())
    assert _briefing_titles(engine_for_postgres_server) == ["Two replicas"]
