"""`/iris brief` end to end: a real `iris serve` subprocess, the Slack stand-in, and real time.

The server runs in its own process, so its clock cannot be frozen: briefings are scheduled a few
seconds ahead and the tests poll (`eventually`, `standin.wait_for`) for what the server does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.model import StoredMessage
from bot.slack_standin.server import SlackStandin
from storage import briefings as repo
from storage.briefings import BriefingAnswer
from storage.db import open_engine, read_scope
from tests.e2e.conftest import (
    ADMIN,
    SIGNING_SECRET,
    IrisServer,
    database_of,
    driving,
    eventually,
    running,
    server_env,
)

pytestmark = pytest.mark.e2e


def _server(standin: SlackStandin, workdir: Path, grace_seconds: float) -> IrisServer:
    env = server_env(standin, workdir)
    Path(env["IRIS_CONFIG"]).write_text(
        f"channels:\n  default: C0OPS\nroles:\n  admins: [{ADMIN}]\n"
        f"briefings:\n  grace_seconds: {grace_seconds}\n"
    )
    return IrisServer(env=env, workdir=workdir)


@pytest.fixture
def briefing_iris(standin: SlackStandin, tmp_path: Path) -> Iterator[IrisServer]:
    yield from running(_server(standin, tmp_path, grace_seconds=60).env, tmp_path)


@pytest.fixture
def slack(briefing_iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(briefing_iris, standin)


@pytest.fixture
def server_db(briefing_iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(briefing_iris)


def _say(slack: SlackDriver, standin: SlackStandin, text: str, user: str = ADMIN) -> str:
    return slack.answer_text(slack.command(text, user_id=user))


def _add(slack: SlackDriver, standin: SlackStandin, text: str) -> int:
    said = _say(slack, standin, text)
    assert " is scheduled for <!date^" in said, said
    return int(said.split("`")[1])


def _top(standin: SlackStandin, needle: str, channel: str = "C0OPS") -> list[StoredMessage]:
    return [m for m in standin.messages(channel) if m.thread_ts is None and needle in m.text]


def _firing_statuses(engine: Engine, briefing_id: int) -> list[str]:
    with read_scope(engine) as session:
        return [f.status for f in repo.firings_of(session, briefing_id)]


def _button_value(message: StoredMessage) -> str:
    actions = next(b for b in message.blocks or [] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def test_reminder_start_answers_and_done_reach_exactly_the_absentees(
    slack: SlackDriver, standin: SlackStandin, server_db: Engine
) -> None:
    briefing_id = _add(
        slack,
        standin,
        'brief add "Deploy briefing" in 6s remind=3s agenda="Rollback plan" '
        "attendees=<@UKIM|kim>,<@ULEE|lee>,<@UPARK|park>",
    )
    reminder = standin.wait_for(lambda s: next(iter(_top(s, "starts in 3 s")), None), timeout=20)
    start = standin.wait_for(lambda s: next(iter(_top(s, "starts now")), None), timeout=20)
    assert "*Deploy briefing*" in start.text and "Rollback plan" in json.dumps(start.blocks)
    assert "No answer yet: <@UKIM>, <@ULEE>, <@UPARK>" in json.dumps(reminder.blocks)

    value = _button_value(start)
    slack.block_action("brief_attend", value, user_id="UKIM", message_ts=start.ts)
    slack.block_action("brief_absent", value, user_id="ULEE", message_ts=start.ts)
    slack.block_action("brief_absent", value, user_id="ULEE", message_ts=start.ts)  # a double click
    shown = "Attending: <@UKIM> · Can't attend: <@ULEE> · No answer yet: <@UPARK>"
    standin.wait_for(
        lambda s: any(
            shown in json.dumps(e["blocks"], ensure_ascii=False) for e in _top(s, "starts now")[0].edits
        )
    )
    with read_scope(server_db) as session:
        firing = repo.get_firing(session, int(value))
        assert firing is not None
        answers = repo.answers(session, briefing_id, repo.as_utc(firing.occurrence_at))
    assert answers == {"UKIM": "attending", "ULEE": "absent"}

    said = _say(
        slack,
        standin,
        f'brief done {briefing_id} recording=<https://rec.example/42> notes="Deploy on 17 Dec"',
    )
    assert said == "Posted in the briefing's thread and sent to those who were absent: <@ULEE>, <@UPARK>."
    thread = standin.wait_for(lambda s: [m for m in s.messages("C0OPS") if m.thread_ts == start.ts])
    assert "Recording: https://rec.example/42" in thread[0].text and "Deploy on 17 Dec" in thread[0].text
    dms = standin.wait_for(
        lambda s: (
            (s.messages("ULEE"), s.messages("UPARK")) if s.messages("UPARK") and s.messages("ULEE") else None
        )
    )
    assert all("https://rec.example/42" in m[0].text for m in dms)
    assert standin.messages("UKIM") == []
    again = _say(slack, standin, f"brief done {briefing_id}")
    assert again.endswith("was already marked done by <@UADMIN01>.")


def test_a_restart_and_a_second_replica_between_scheduling_and_firing_still_post_once(
    briefing_iris: IrisServer, slack: SlackDriver, standin: SlackStandin, server_db: Engine, tmp_path: Path
) -> None:
    briefing_id = _add(slack, standin, 'brief add "Lead meeting" in 8s remind=none')
    briefing_iris.stop()
    briefing_iris.start()
    replica = IrisServer(env=briefing_iris.env, workdir=tmp_path).start()  # same database, its own scheduler
    try:
        standin.wait_for(lambda s: _top(s, "*Lead meeting* starts now"), timeout=20)
        assert eventually(lambda: _firing_statuses(server_db, briefing_id) == ["posted"])
        listing = _say(slack, standin, "brief list")
        assert f"`{briefing_id}`" not in listing  # nothing left to post, so no longer upcoming
    finally:
        replica.stop()
    assert len(_top(standin, "*Lead meeting*")) == 1
    assert "late" not in _top(standin, "*Lead meeting*")[0].text


def _wait_until(moment: float) -> None:
    assert eventually(lambda: time.time() > moment, timeout=30)


def test_a_firing_missed_while_down_is_posted_late_within_grace(
    briefing_iris: IrisServer, slack: SlackDriver, standin: SlackStandin, server_db: Engine
) -> None:
    briefing_id = _add(slack, standin, 'brief add "Training" in 3s remind=none')
    due = time.time() + 3
    briefing_iris.stop()
    _wait_until(due + 1)
    briefing_iris.start()
    [late] = standin.wait_for(lambda s: _top(s, "*Training* starts now"), timeout=20)
    assert "_Posted late: IRIS was not running at <!date^" in late.text
    assert eventually(lambda: _firing_statuses(server_db, briefing_id) == ["late"])


def test_a_firing_missed_beyond_grace_is_recorded_and_not_posted(
    standin: SlackStandin, tmp_path: Path
) -> None:
    server = _server(standin, tmp_path, grace_seconds=1).start()
    engine = open_engine(server.env["IRIS_DATABASE_URL"])
    try:
        with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as slack:
            text = 'brief add "Production deploy" in 2s remind=none kind=milestone'
            briefing_id = _add(slack, standin, text)
        due = time.time() + 2
        server.stop()
        _wait_until(due + 3)
        server.start()
        assert eventually(lambda: _firing_statuses(engine, briefing_id) == ["missed"]), _firing_statuses(
            engine, briefing_id
        )
        assert _top(standin, "Production deploy") == []
    finally:
        if server.process is not None:
            server.stop()
        engine.dispose()


def test_bad_and_past_times_get_an_ephemeral_sentence_with_examples(slack: SlackDriver) -> None:
    for text, expected in [
        ('brief add "Retro" yesterday 10:00', "IRIS cannot read `yesterday 10:00` as a time"),
        ('brief add "Retro" 2020-01-01 10:00', "is in the past"),
        ("brief add Retro tomorrow 10:00", "Start with the title in quotes"),
    ]:
        answer = slack.command(text, user_id=ADMIN)
        body = answer.json()
        assert body["response_type"] == "ephemeral" and expected in body["text"], body


def test_only_the_creator_or_an_admin_may_cancel(slack: SlackDriver, standin: SlackStandin) -> None:
    briefing_id = _add(slack, standin, 'brief add "Weekly sync" every mon,thu 10:00')
    refused = _say(slack, standin, f"brief cancel {briefing_id}", user="UNOBODY1")
    assert refused == f"Only <@{ADMIN}>, who scheduled `{briefing_id}`, or an IRIS admin can do that."
    listing = _say(slack, standin, "brief list")
    assert f"`{briefing_id}` *Weekly sync*" in listing and "mon,thu" in listing
    assert _say(slack, standin, f"brief cancel {briefing_id}").startswith(f"Cancelled `{briefing_id}`")
    assert f"`{briefing_id}`" not in _say(slack, standin, "brief list")


def test_a_forged_or_stale_attendance_button_is_answered_and_records_nothing(
    slack: SlackDriver, standin: SlackStandin, server_db: Engine
) -> None:
    unknown = "This briefing was cancelled or is unknown; your answer was not recorded."
    for value, expected in [
        ("DROP TABLE", "That button does not belong to a briefing IRIS knows."),
        ("999999", unknown),
    ]:
        click = slack.block_action("brief_attend", value, user_id="UKIM")
        assert click.status_code == 200
        [answer] = standin.wait_for_response(click.response_url_name)
        assert (answer["text"], answer["response_type"]) == (expected, "ephemeral")
    with read_scope(server_db) as session:
        assert session.exec(select(BriefingAnswer)).all() == []
