"""`/iris alert-test`: through a real Alertmanager (8 cases), through IRIS's own intake, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage.alerts import AlertTestRun
from storage.db import open_engine, read_scope
from tests.alerts.conftest import ONCALL, TOKEN, alerting_env, top_level
from tests.alerts.real_alertmanager import RealAlertmanager
from tests.e2e.conftest import SIGNING_SECRET, IrisServer

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

ROUTED_YML = """\
channels:
  incidents: C0INC
roles:
  oncall: [UONCALL1]
routes:
  - match: {iris_alert_case: Routed}
    channel: C0SECOND
"""


def _results(slack: SlackDriver, standin: SlackStandin, text: str) -> str:
    started = slack.command(text, user_id=ONCALL, channel_id="C0OPS")
    name = started.response_url_name or ""
    first = standin.wait_for_response(name, timeout=20)[0]["text"]
    assert first.startswith("Running 8 alert tests"), first
    return str(standin.wait_for_response(name, count=2, timeout=240)[1]["text"])


def test_all_eight_cases_pass_through_a_real_alertmanager(
    standin: SlackStandin, tmp_path: Path, alertmanager_binary: str
) -> None:
    server = IrisServer(env={}, workdir=tmp_path)
    am = RealAlertmanager(alertmanager_binary, tmp_path, f"{server.base_url}/alerts/alertmanager", TOKEN)
    server.env = alerting_env(standin, tmp_path, IRIS_ALERTMANAGER_URL=am.url)
    (tmp_path / "iris.yml").write_text(ROUTED_YML)
    am.start()
    try:
        server.start()
        with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as slack:
            report = _results(slack, standin, "alert-test timeout=60")
        assert report.startswith("*8 of 8 alert tests passed* — run"), report
        assert "through Alertmanager" in report
        assert top_level(standin, "C0SECOND")  # the routed case really went to the second channel
        assert [s["status"]["state"] for s in am.silences()] == ["expired"]  # cleaned up
    finally:
        if server.process is not None:
            server.stop()
        am.stop()


@pytest.fixture
def plain_iris(standin: SlackStandin, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = alerting_env(standin, tmp_path)
    (tmp_path / "iris.yml").write_text(ROUTED_YML)
    server = IrisServer(env=env, workdir=tmp_path).start()
    yield server
    if server.process is not None:
        server.stop()


def test_without_alertmanager_the_own_webhook_is_tested_and_the_silence_case_skipped(
    plain_iris: IrisServer, standin: SlackStandin
) -> None:
    with SlackDriver(plain_iris.base_url, SIGNING_SECRET, standin=standin) as slack:
        report = _results(slack, standin, "alert-test timeout=60")
        assert report.startswith("*7 of 8 alert tests passed*") and "(1 skipped)" in report, report
        assert "through IRIS's own webhook" in report
        assert "skipped: needs IRIS_ALERTMANAGER_URL" in report
        listed = slack.command("incidents", user_id=ONCALL)
        text = standin.wait_for_response(listed.response_url_name or "")[0]["text"]
        assert text == "No alert group is firing."  # every test alert was resolved afterwards
    engine = open_engine(plain_iris.env["IRIS_DATABASE_URL"])
    with read_scope(engine) as session:  # kept for the day's report
        [run] = session.exec(select(AlertTestRun)).all()
    engine.dispose()
    assert (run.started_by, run.via, run.total, run.passed, run.skipped) == (ONCALL, "webhook", 8, 7, 1)
    assert run.ended_at is not None and json.loads(run.results)[6]["outcome"] == "skip"


def test_alert_test_needs_the_oncall_role_and_a_valid_timeout(
    plain_iris: IrisServer, standin: SlackStandin
) -> None:
    with SlackDriver(plain_iris.base_url, SIGNING_SECRET, standin=standin) as slack:
        refused = slack.command("alert-test", user_id="U0NOBODY")
        assert "oncall" in standin.wait_for_response(refused.response_url_name or "")[0]["text"]
        bad = slack.command("alert-test timeout=forever", user_id=ONCALL)
        assert "Usage" in (bad.json() or {}).get("text", "")
