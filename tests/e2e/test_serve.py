"""`iris serve` end to end: health, readiness, metrics and signed /iris commands over real HTTP."""

from __future__ import annotations

import json
import signal

import httpx
import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import audit, outbox
from storage.clock import utcnow
from storage.db import session_scope
from storage.migrate import head_revision
from tests.e2e.conftest import ADMIN, SIGNING_SECRET, IrisServer, server_env

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

SUBCOMMANDS = [
    "help",
    "status",
    "rehearse",
    "checklist",
    "brief",
    "alert-test",
    "incidents",
    "note",
    "report",
]


def _audit_rows(engine: Engine) -> list[audit.AuditEvent]:
    with session_scope(engine) as session:
        return audit.since(session, utcnow().replace(year=2000))


def _outbox_counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return outbox.count_by_status(session)


def test_health_readiness_and_metrics(iris: IrisServer, driver: SlackDriver) -> None:
    assert iris.get("/healthz").json() == {"status": "ok", "version": "0.1.0"}
    ready = iris.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["slack"] == {"ok": True, "detail": "authenticated as U0BOT"}
    assert ready.json()["checks"]["database"]["ok"] is True
    driver.command("help")
    metrics = iris.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    body = metrics.text
    assert 'iris_http_requests_total{method="POST",route="/slack/events",status="200"} 1.0' in body
    assert 'iris_command_ack_seconds_count{subcommand="help"} 1.0' in body
    assert 'iris_slack_api_calls_total{method="auth.test",result="ok"}' in body
    assert "iris_outbox_depth 0.0" in body


def test_readiness_fails_when_slack_rejects_the_token(standin: SlackStandin, tmp_path) -> None:
    server = IrisServer(env=server_env(standin, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked"), workdir=tmp_path)
    server.start()
    try:
        ready = server.get("/readyz")
        assert server.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        server.stop()
    assert ready.status_code == 503
    assert ready.json()["checks"]["slack"] == {"ok": False, "detail": "auth.test failed: invalid_auth"}


@pytest.mark.parametrize("text", ["help", "", "  HELP  "])
def test_help_lists_every_subcommand_ephemerally(driver: SlackDriver, text: str) -> None:
    answer = driver.command(text)
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    for name in SUBCOMMANDS:
        assert f"`/iris {name}" in body["text"]
    assert len(body["blocks"]) <= 50


def test_status_answers_through_the_response_url(driver: SlackDriver, standin: SlackStandin) -> None:
    answer = driver.command("status")
    assert answer.status_code == 200 and answer.body == ""
    [reply] = standin.wait_for_response(answer.response_url_name)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("IRIS 0.1.0: up ")
    fields = json.dumps(reply["blocks"])
    for expected in (f"sqlite, schema {head_revision()}", "<@U0BOT>", "Asia/Seoul", "Outbox messages"):
        assert expected in fields


def test_an_unknown_subcommand_gets_usage_and_cannot_ping_anyone(driver: SlackDriver) -> None:
    body = driver.command("<!channel>&deploy now").json()
    assert body["response_type"] == "ephemeral"
    assert "IRIS does not know `/iris &lt;!channel&gt;&amp;deploy`" in body["text"]
    assert "<!channel>" not in json.dumps(body)


def test_a_report_of_a_day_in_the_future_is_refused_in_the_ack_with_an_example(driver: SlackDriver) -> None:
    body = driver.command("report 2999-01-01").json()
    assert body["text"].startswith(
        "A report is of a day that has begun; `2999-01-01` has not. Try `/iris report 20"
    )


@pytest.mark.parametrize(
    "text",
    [
        "note the payload was bad",  # Bolt alone answers this with 404
        'status "unbalanced quote',
        "리허설 상태 ☃️",
        "\u200b\u00a0status",
        "x" * 4000,
        '{"json": true}',
        "status\nretry\tall",
        "%00 %ff \\ ' ;rm -rf /",
    ],
)
def test_any_text_after_iris_gets_an_answer(driver: SlackDriver, standin: SlackStandin, text: str) -> None:
    answer = driver.command(text)
    assert answer.status_code == 200
    if answer.body:
        assert answer.json()["response_type"] == "ephemeral"
    else:  # acknowledged empty: the answer follows on the response_url
        assert standin.wait_for_response(answer.response_url_name)


def test_a_slow_slack_never_blocks_health_or_other_commands(
    driver: SlackDriver, standin: SlackStandin, iris: IrisServer
) -> None:
    standin.block("response_url")  # Slack does not answer replies until we say so
    first = driver.command("status")
    assert (first.status_code, first.body) == (200, "")
    standin.wait_for(lambda s: s.in_flight("response_url") == 1)  # IRIS is now waiting on Slack

    assert iris.get("/healthz").status_code == 200
    helps = [driver.command("help") for _ in range(3)]
    assert all(h.status_code == 200 and "`/iris status" in h.json()["text"] for h in helps)
    second = driver.command("status")
    assert (second.status_code, second.body) == (200, "")
    assert standin.in_flight("response_url") >= 1  # all of that happened while the first reply was held
    assert standin.responses(first.response_url_name) == []

    standin.unblock("response_url")
    for status in (first, second):
        [reply] = standin.wait_for_response(status.response_url_name)
        assert reply["text"].startswith("IRIS 0.1.0: up ")


def test_a_server_that_exits_at_start_is_reported_and_reaped(standin: SlackStandin, tmp_path) -> None:
    env = server_env(standin, tmp_path, SLACK_BOT_TOKEN="not-a-bot-token")
    server = IrisServer(env=env, workdir=tmp_path)
    try:
        with pytest.raises(AssertionError, match="SLACK_BOT_TOKEN is invalid"):
            server.start()
    finally:
        if server.process is not None:  # started after all: the test failed, do not leak the server
            server.stop()
    assert server.process is None and server.returncode not in (None, 0)


def test_a_server_that_never_gets_healthy_is_killed(standin: SlackStandin, tmp_path) -> None:
    server = IrisServer(env=server_env(standin, tmp_path), workdir=tmp_path, startup_timeout=0.0)
    with pytest.raises(AssertionError, match="did not become healthy"):
        server.start()
    assert server.process is None and server.returncode == -signal.SIGKILL


@pytest.mark.parametrize("headers_case", ["unsigned", "wrong signature", "stale timestamp"])
def test_unverified_requests_are_rejected_and_leave_no_trace(
    driver: SlackDriver, standin: SlackStandin, iris_db: Engine, headers_case: str
) -> None:
    options = {
        "unsigned": {"signature": ""},
        "wrong signature": {"signature": "v0=" + "0" * 64},
        "stale timestamp": {"timestamp": int(utcnow().timestamp()) - 301},
    }[headers_case]
    answer = driver.command("status retry all", user_id=ADMIN, **options)
    assert answer.status_code == 401
    assert _audit_rows(iris_db) == [] and _outbox_counts(iris_db) == {}
    assert standin.calls("response_url") == []


def test_an_oversized_body_is_refused_with_413(driver: SlackDriver, iris_db: Engine) -> None:
    body = b"text=" + b"a" * (1024 * 1024)
    answer = driver.raw(body, {"Content-Type": "application/x-www-form-urlencoded", **driver.sign(body)})
    assert answer.status_code == 413
    assert answer.json() == {"error": "The request body is larger than 1 MiB."}
    assert _outbox_counts(iris_db) == {}


def test_a_body_that_is_not_utf8_is_refused_with_400(driver: SlackDriver) -> None:
    body = b"text=\xff\xfe"
    answer = driver.raw(body, {"Content-Type": "application/x-www-form-urlencoded", **driver.sign(body)})
    assert answer.status_code == 400 and "UTF-8" in answer.json()["error"]


def test_unknown_routes_answer_404(iris: IrisServer) -> None:
    assert httpx.post(iris.base_url + "/nope", timeout=5).status_code == 404


def test_iris_lang_ko_answers_in_korean(standin: SlackStandin, tmp_path) -> None:
    server = IrisServer(env=server_env(standin, tmp_path, IRIS_LANG="ko"), workdir=tmp_path).start()
    try:
        with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as driver:
            help_text = driver.command("help").json()["text"]
            unknown = driver.command("deploy").json()["text"]
    finally:
        server.stop()
    assert help_text.startswith("IRIS 명령\n")
    assert "`/iris deploy`" in unknown and "IRIS does not know" not in unknown
