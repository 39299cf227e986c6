"""Pull mode against a real Alertmanager that cannot reach IRIS: its webhook points nowhere, IRIS polls.

One message per group, edits as it changes, resolved on expiry; two replicas on one PostgreSQL
without a double post; Alertmanager stopped and started again is survived.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.alerts.payload import PULLED
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import alert_pull as lease
from storage.alerts import AlertGroup
from storage.db import open_engine, read_scope
from tests.alerts.conftest import TOKEN, alerting_env, block_text, top_level
from tests.alerts.real_alertmanager import RealAlertmanager
from tests.conftest import empty_tables
from tests.e2e.conftest import SIGNING_SECRET, IrisServer, eventually, free_port, running

pytestmark = pytest.mark.e2e  # starts the real `iris` and a real Alertmanager as processes

RETRY = {"alertname": "RetryBurst", "severity": "warning"}
NOWHERE = f"http://127.0.0.1:{free_port()}/alerts/alertmanager"  # Alertmanager cannot reach IRIS


def pull_env(
    standin: SlackStandin, workdir: Path, am: RealAlertmanager, warmup: str = "0s", **overrides: str
) -> dict[str, str]:
    env = alerting_env(standin, workdir, **overrides)
    config = Path(env["IRIS_CONFIG"])
    pull = f"alerts:\n  pull: {{url: '{am.url}', every: 1s, warmup: {warmup}}}\n"
    config.write_text(config.read_text() + pull)
    return env


@pytest.fixture
def am(tmp_path: Path, alertmanager_binary: str) -> Iterator[RealAlertmanager]:
    (tmp_path / "am").mkdir()
    running_am = RealAlertmanager(alertmanager_binary, tmp_path / "am", NOWHERE, TOKEN).start()
    yield running_am
    running_am.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pulling(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path, am: RealAlertmanager
) -> Iterator[IrisServer]:
    overrides = {}
    if request.param == "postgresql":
        empty_tables(request.getfixturevalue("postgres_engine"))
        overrides["IRIS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    yield from running(pull_env(standin, tmp_path, am, **overrides), tmp_path)


def incident_posts(standin: SlackStandin) -> dict[str, list[Any]]:
    """The top-level messages in the incidents channel, by the alertname they show."""
    found: dict[str, list[Any]] = {}
    for message in top_level(standin, "C0INC"):
        for name in ("RetryBurst", "DiskFull", "Second", "Third", "Fourth"):
            if name in message.text:
                found.setdefault(name, []).append(message)
    return found


def text_of(standin: SlackStandin, name: str) -> str:
    posts = incident_posts(standin).get(name, [])
    return posts[0].text if posts else ""


def stored_groups(engine: Engine) -> list[AlertGroup]:
    with read_scope(engine) as session:
        return list(session.exec(select(AlertGroup).order_by(AlertGroup.id)).all())


def lease_holder(engine: Engine) -> str:
    with read_scope(engine) as session:
        state = lease.state_of(session, "default")
    assert state is not None
    return state.holder


def test_alerts_added_appear_once_per_group_are_edited_and_resolve_on_expiry(
    pulling: IrisServer, am: RealAlertmanager, standin: SlackStandin
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    one, two = {**RETRY, "instance": "api-1"}, {**RETRY, "instance": "api-2"}
    am.fire(one, {"summary": "Retries above 5% on api-1"}, starts_at=started)
    am.fire({"alertname": "DiskFull", "severity": "critical"}, starts_at=started)
    standin.wait_for(lambda s: {"RetryBurst", "DiskFull"} <= incident_posts(s).keys(), timeout=30)
    assert "1 firing" in text_of(standin, "RetryBurst")
    assert "alert_silence" in block_text(incident_posts(standin)["RetryBurst"][0])  # buttons, as webhooks

    am.fire(two, starts_at=started)  # joins RetryBurst (Alertmanager groups by alertname)
    standin.wait_for(lambda s: "2 firing" in text_of(s, "RetryBurst"), timeout=30)

    am.resolve(one, started)  # endsAt in the past: gone from Alertmanager's API
    standin.wait_for(lambda s: "1 resolved" in text_of(s, "RetryBurst"), timeout=30)
    am.resolve(two, started)
    standin.wait_for(lambda s: "RESOLVED" in text_of(s, "RetryBurst"), timeout=30)
    assert "RESOLVED" not in text_of(standin, "DiskFull")
    posts = incident_posts(standin)
    assert (len(posts["RetryBurst"]), len(posts["DiskFull"])) == (1, 1)  # edited in place, never again
    engine = open_engine(pulling.env["IRIS_DATABASE_URL"])
    try:
        assert {(g.source, g.receiver) for g in stored_groups(engine)} == {(PULLED, "iris")}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_replicas_on_one_postgresql_poll_without_posting_anything_twice(
    standin: SlackStandin,
    tmp_path: Path,
    am: RealAlertmanager,
    postgres_url: str,
    postgres_engine: Engine,
) -> None:
    empty_tables(postgres_engine)
    env = pull_env(standin, tmp_path, am, IRIS_DATABASE_URL=postgres_url)
    started = datetime.now(UTC) - timedelta(seconds=1)
    with contextlib.ExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(stack.enter_context(contextlib.contextmanager(running)(env | {}, tmp_path / name)))
        for name in ("RetryBurst", "DiskFull", "Second"):
            am.fire({"alertname": name, "instance": "one"}, starts_at=started)
        standin.wait_for(lambda s: len(incident_posts(s)) == 3, timeout=30)
        am.fire({"alertname": "RetryBurst", "instance": "two"}, starts_at=started)
        standin.wait_for(lambda s: "2 firing" in text_of(s, "RetryBurst"), timeout=30)

        ready = [json.loads(s.get("/readyz").text)["checks"]["alertmanager_pull"] for s in servers]
        assert all(check["ok"] and check["required"] is False for check in ready)
        first_holder = lease_holder(postgres_engine)
        polling = next(s for s in servers if s.process and f":{s.process.pid}:" in first_holder)
        polling.stop()  # the replica holding the lease stops: the other one takes over
        am.fire({"alertname": "Third", "instance": "one"}, starts_at=started)
        standin.wait_for(lambda s: "Third" in incident_posts(s), timeout=30)
        assert lease_holder(postgres_engine) != first_holder
    posts = incident_posts(standin)
    assert {name: len(found) for name, found in posts.items()} == {
        "RetryBurst": 1,
        "DiskFull": 1,
        "Second": 1,
        "Third": 1,
    }
    replies = [m for m in standin.messages("C0INC") if m.thread_ts]
    assert len({(m.thread_ts, m.text) for m in replies}) == len(replies)  # no reply told twice
    assert len(stored_groups(postgres_engine)) == 4


def test_alertmanager_stopped_and_started_again_is_shown_and_survived(
    standin: SlackStandin, tmp_path: Path, am: RealAlertmanager
) -> None:
    env = pull_env(standin, tmp_path, am, warmup="30s")
    with contextlib.contextmanager(running)(env, tmp_path) as server:
        started = datetime.now(UTC) - timedelta(seconds=1)
        am.fire({**RETRY, "instance": "api-1"}, starts_at=started)
        standin.wait_for(lambda s: "1 firing" in text_of(s, "RetryBurst"), timeout=30)

        am.stop()

        def pull_check() -> dict[str, Any]:
            answer = server.get("/readyz")
            assert answer.status_code == 200  # not required: Slack and webhooks go on
            check: dict[str, Any] = answer.json()["checks"]["alertmanager_pull"]
            return check

        assert eventually(lambda: not pull_check()["ok"], timeout=20)
        assert "unreachable for" in pull_check()["detail"]
        with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as slack:
            asked = slack.command("status")
            [status] = standin.wait_for_response(asked.response_url_name or "", timeout=20)
        assert f"{am.url}: unreachable for" in json.dumps(status["blocks"])
        assert eventually(lambda: server.log.read_text().count("cannot poll Alertmanager") == 1, timeout=10)

        am.start()  # a new process on the same port: it knows no alerts until they are sent again
        am.fire({**RETRY, "instance": "api-1"}, starts_at=started)  # as Prometheus re-sends them
        assert eventually(lambda: pull_check()["ok"], timeout=20)
        log = server.log.read_text()
        assert log.count("cannot poll Alertmanager") == 1 and "answers again" in log  # once per outage
        assert server.process is not None and server.process.poll() is None
        am.fire({**RETRY, "instance": "api-2"}, starts_at=started)
        standin.wait_for(lambda s: "2 firing, 0 resolved" in text_of(s, "RetryBurst"), timeout=30)
        assert "FIRING" in text_of(standin, "RetryBurst")  # the restart resolved nothing
        assert len(incident_posts(standin)["RetryBurst"]) == 1
