"""Acknowledge, Silence with Alertmanager away, and /iris incidents, through a running `iris serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import alerts as repo
from storage.db import read_scope
from tests.alerts.conftest import ONCALL, alerting_env, fixture, send, thread, top_level
from tests.e2e.conftest import IrisServer, database_of, driving, free_port, running

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


@pytest.fixture
def unreachable_am(standin: SlackStandin, tmp_path: Path) -> Iterator[IrisServer]:
    """IRIS told to use an Alertmanager on a port where nothing listens."""
    env = alerting_env(standin, tmp_path, IRIS_ALERTMANAGER_URL=f"http://127.0.0.1:{free_port()}/")
    yield from running(env, tmp_path)


@pytest.fixture
def posted(unreachable_am: IrisServer, standin: SlackStandin) -> str:
    assert send(unreachable_am, "grafana", fixture("grafana_firing.json")).status_code == 200
    standin.wait_for(lambda s: top_level(s, "C0INC"))
    return top_level(standin, "C0INC")[0].ts


@pytest.fixture
def slack(unreachable_am: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(unreachable_am, standin)


@pytest.fixture
def db(unreachable_am: IrisServer) -> Iterator[Engine]:
    yield from database_of(unreachable_am)


def test_acknowledge_records_who_and_shows_it(
    posted: str, slack: SlackDriver, standin: SlackStandin, db: Engine
) -> None:
    clicked = slack.block_action("alert_ack", "1", user_id="U0ALICE", channel_id="C0INC", message_ts=posted)
    assert clicked.status_code == 200
    assert "acknowledged" in standin.wait_for_response(clicked.response_url_name or "")[0]["text"]
    standin.wait_for(lambda s: "Acknowledged by <@U0ALICE>" in str(top_level(s, "C0INC")[0].blocks))
    standin.wait_for(
        lambda s: any("Acknowledged by <@U0ALICE>" in m.text for m in thread(s, "C0INC", posted))
    )
    assert "alert_ack" not in str(top_level(standin, "C0INC")[0].blocks)  # the button is gone
    with read_scope(db) as session:
        group = repo.get_group(session, 1)
    assert group is not None and group.acked_by == "U0ALICE"


def test_silence_with_alertmanager_unreachable_says_so_and_records_nothing(
    posted: str, slack: SlackDriver, standin: SlackStandin, db: Engine
) -> None:
    clicked = slack.block_action(
        "alert_silence_1", "1", user_id=ONCALL, channel_id="C0INC", message_ts=posted
    )
    text = standin.wait_for_response(clicked.response_url_name or "", timeout=20)[0]["text"]
    assert "Alertmanager could not be reached" in text and "nothing changed" in text
    with read_scope(db) as session:
        group = repo.get_group(session, 1)
        kinds = [e.kind for e in repo.events_of(session, 1)]
    assert group is not None and group.silence_id is None and group.silenced_by is None
    assert "silenced" not in kinds


def test_a_button_for_an_unknown_group_is_answered_with_a_sentence(
    posted: str, slack: SlackDriver, standin: SlackStandin
) -> None:
    clicked = slack.block_action("alert_ack", "999", user_id="U0ALICE", channel_id="C0INC", message_ts=posted)
    assert "no longer knows" in standin.wait_for_response(clicked.response_url_name or "")[0]["text"]
    forged = slack.block_action("alert_silence_1", "1; drop", user_id=ONCALL, channel_id="C0INC")
    assert "no longer knows" in standin.wait_for_response(forged.response_url_name or "")[0]["text"]


def test_incidents_lists_the_open_groups_with_links(
    posted: str, slack: SlackDriver, standin: SlackStandin, unreachable_am: IrisServer
) -> None:
    listed = slack.command("incidents", user_id="U0ALICE", channel_id="C0OPS")
    assert listed.status_code == 200
    text = standin.wait_for_response(listed.response_url_name or "")[0]["text"]
    assert "1 open alert groups" in text and "High memory usage" in text and "2 of 2 firing" in text
    assert f"https://slack.com/archives/C0INC/p{posted.replace('.', '')}" in text

    assert send(unreachable_am, "grafana", fixture("grafana_resolved.json")).status_code == 200
    again = slack.command("incidents", user_id="U0ALICE", channel_id="C0OPS")
    assert standin.wait_for_response(again.response_url_name or "")[0]["text"] == "No alert group is firing."
    extra = slack.command("incidents now", user_id="U0ALICE", channel_id="C0OPS")
    assert "takes no arguments" in (extra.json() or {}).get("text", "")


def test_without_an_alertmanager_silence_is_not_offered_and_an_old_button_says_what_to_set(
    standin: SlackStandin, tmp_path: Path
) -> None:
    servers = running(alerting_env(standin, tmp_path), tmp_path)
    server = next(servers)
    try:
        assert send(server, "grafana", fixture("grafana_firing.json")).status_code == 200
        [message] = standin.wait_for(lambda s: top_level(s, "C0INC"))
        assert "alert_silence" not in str(message.blocks)
        assert "Silence buttons appear once `IRIS_ALERTMANAGER_URL` is set." in str(message.blocks)
        drivers = driving(server, standin)
        slack = next(drivers)
        clicked = slack.block_action(
            "alert_silence_1", "1", user_id=ONCALL, channel_id="C0INC", message_ts=message.ts
        )
        text = standin.wait_for_response(clicked.response_url_name or "")[0]["text"]
        assert text.startswith("Silencing needs an Alertmanager: set IRIS_ALERTMANAGER_URL")
        next(drivers, None)  # runs the fixture helper's clean-up
    finally:
        next(servers, None)  # stops the server
