"""Against a real Alertmanager: grouping, edits, threads, resolve, quiet repeats, real silences."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage.db import open_engine
from tests.alerts.conftest import ONCALL, TOKEN, alerting_env, block_text, group_ids, thread, top_level
from tests.alerts.real_alertmanager import RealAlertmanager
from tests.conftest import empty_tables
from tests.e2e.conftest import SIGNING_SECRET, IrisServer, eventually

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

RETRY = {"alertname": "RetryBurst", "severity": "warning"}


@pytest.fixture
def stack(
    standin: SlackStandin, tmp_path: Path, alertmanager_binary: str
) -> Iterator[tuple[IrisServer, RealAlertmanager]]:
    server = IrisServer(env={}, workdir=tmp_path)
    am = RealAlertmanager(alertmanager_binary, tmp_path, f"{server.base_url}/alerts/alertmanager", TOKEN)
    server.env = alerting_env(standin, tmp_path, IRIS_ALERTMANAGER_URL=am.url)
    am.start()
    try:
        server.start()
        yield server, am
    finally:
        if server.process is not None:
            server.stop()
        am.stop()


@pytest.fixture
def stack_db(stack: tuple[IrisServer, RealAlertmanager]) -> Iterator[Engine]:
    engine = open_engine(stack[0].env["IRIS_DATABASE_URL"])
    yield engine
    engine.dispose()


def slack_calls(standin: SlackStandin) -> int:
    return len(standin.calls("chat.postMessage")) + len(standin.calls("chat.update"))


def test_a_group_lives_in_one_message_with_a_thread_and_repeats_stay_quiet(
    stack: tuple[IrisServer, RealAlertmanager], standin: SlackStandin
) -> None:
    _, am = stack
    started = datetime.now(UTC) - timedelta(seconds=1)
    one, two = {**RETRY, "instance": "api-1"}, {**RETRY, "instance": "api-2"}
    am.fire(
        one,
        {"summary": "Retries above 5% on api-1", "runbook_url": "https://runbooks.example.org/r"},
        starts_at=started,
    )
    standin.wait_for(lambda s: top_level(s, "C0INC"), timeout=30)
    [message] = top_level(standin, "C0INC")
    assert "RetryBurst" in message.text and "1 firing" in message.text

    am.fire(two, starts_at=started)  # same alertname: Alertmanager groups it with the first
    standin.wait_for(lambda s: any("joined" in m.text for m in thread(s, "C0INC", message.ts)), timeout=30)
    standin.wait_for(lambda s: "2 firing" in top_level(s, "C0INC")[0].text, timeout=30)
    assert len(top_level(standin, "C0INC")) == 1  # edited in place, never a second post

    am.resolve(one, started)
    standin.wait_for(
        lambda s: any("1 of 2 resolved" in m.text for m in thread(s, "C0INC", message.ts)), timeout=30
    )
    standin.wait_for(lambda s: "1 resolved" in top_level(s, "C0INC")[0].text, timeout=30)

    quiet_from, sent = slack_calls(standin), am.notifications_sent()
    assert eventually(lambda: am.notifications_sent() >= sent + 2, timeout=30)  # two repeats, no change
    assert slack_calls(standin) == quiet_from

    am.resolve(two, started)
    standin.wait_for(
        lambda s: any("All alerts of the group resolved" in m.text for m in thread(s, "C0INC", message.ts)),
        timeout=30,
    )
    standin.wait_for(lambda s: "RESOLVED" in top_level(s, "C0INC")[0].text, timeout=30)
    assert len(top_level(standin, "C0INC")) == 1


def test_the_silence_button_creates_a_real_silence_and_unsilence_expires_it(
    stack: tuple[IrisServer, RealAlertmanager], stack_db: Engine, standin: SlackStandin
) -> None:
    server, am = stack
    am.fire({**RETRY, "instance": "api-1"})
    standin.wait_for(lambda s: top_level(s, "C0INC"), timeout=30)
    [message] = top_level(standin, "C0INC")
    [group] = group_ids(stack_db)
    with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as slack:
        refused = slack.block_action(
            "alert_silence_4", str(group), user_id="U0NOBODY", channel_id="C0INC", message_ts=message.ts
        )
        assert "oncall" in standin.wait_for_response(refused.response_url_name or "")[0]["text"]
        assert am.silences() == []

        clicked = slack.block_action(
            "alert_silence_4", str(group), user_id=ONCALL, channel_id="C0INC", message_ts=message.ts
        )
        answer = standin.wait_for_response(clicked.response_url_name or "", timeout=20)[0]["text"]
        assert answer.startswith("Silenced in Alertmanager until")
        [silence] = am.silences()
        assert silence["status"]["state"] == "active" and silence["createdBy"] == ONCALL
        assert {(m["name"], m["value"]) for m in silence["matchers"]} == {("alertname", "RetryBurst")}
        ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
        assert timedelta(hours=3, minutes=59) < ends - datetime.now(UTC) <= timedelta(hours=4)
        standin.wait_for(
            lambda s: "Silenced by <@UONCALL1> until" in str(top_level(s, "C0INC")[0].blocks), timeout=20
        )
        # A clock time, with the date when the silence ends on another day in the team's zone.
        assert re.search(r"until (\d\d-\d\d )?\d\d:\d\d", str(top_level(standin, "C0INC")[0].blocks))

        undone = slack.block_action(
            "alert_unsilence", str(group), user_id=ONCALL, channel_id="C0INC", message_ts=message.ts
        )
        assert "expired" in standin.wait_for_response(undone.response_url_name or "", timeout=20)[0]["text"]
        assert [s["status"]["state"] for s in am.silences()] == ["expired"]
        standin.wait_for(lambda s: "Silenced by" not in str(top_level(s, "C0INC")[0].blocks), timeout=20)


MASS = 6000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def mass_stack(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path, alertmanager_binary: str
) -> Iterator[tuple[IrisServer, RealAlertmanager]]:
    """Like `stack`, on a SQLite file and on PostgreSQL."""
    overrides = {}
    if request.param == "postgresql":
        empty_tables(request.getfixturevalue("postgres_engine"))
        overrides["IRIS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    server = IrisServer(env={}, workdir=tmp_path)
    am = RealAlertmanager(alertmanager_binary, tmp_path, f"{server.base_url}/alerts/alertmanager", TOKEN)
    server.env = alerting_env(standin, tmp_path, IRIS_ALERTMANAGER_URL=am.url, **overrides)
    am.start()
    try:
        server.start()
        yield server, am
    finally:
        if server.process is not None:
            server.stop()
        am.stop()


@pytest.mark.slow
def test_alertmanager_delivers_a_6000_alert_group_and_it_is_posted_counted_whole_then_resolved(
    mass_stack: tuple[IrisServer, RealAlertmanager], standin: SlackStandin
) -> None:
    server, am = mass_stack
    started = datetime.now(UTC) - timedelta(seconds=1)
    alerts = [
        {"labels": {"alertname": "MassOutage", "instance": f"node-{i}"}, "startsAt": started.isoformat()}
        for i in range(MASS)
    ]
    am.post_alerts(alerts)  # one group (grouped by alertname), delivered in one webhook call
    standin.wait_for(lambda s: "6000 firing" in "".join(m.text for m in top_level(s, "C0INC")), timeout=45)
    [message] = top_level(standin, "C0INC")
    assert message.text.startswith("FIRING: MassOutage — 6000 firing, 0 resolved")
    shown = block_text(message)
    assert "…and 5990 more alerts: 990 are listed in the thread, 5000 are only counted." in shown
    # Alertmanager may flush the group once before the API has taken all 6,000: a smaller first list.
    title = "1000 of the group's 6000 alerts"
    standin.wait_for(lambda s: any(f.completed and f.title == title for f in s.files()), timeout=20)
    [listing] = [f for f in standin.files() if f.title == title]
    assert listing.thread_ts == message.ts
    assert listing.data is not None and listing.data.count(b"\n") == 1001  # header and 1000 rows

    ended = datetime.now(UTC) - timedelta(milliseconds=500)
    am.post_alerts([{**alert, "endsAt": ended.isoformat()} for alert in alerts])
    standin.wait_for(lambda s: "6000 resolved" in top_level(s, "C0INC")[0].text, timeout=45)
    [resolved] = top_level(standin, "C0INC")
    assert resolved.text.startswith("RESOLVED: MassOutage — 0 firing, 6000 resolved")
    assert "Traceback" not in server.log.read_text()
