"""With SLACK_APP_TOKEN set, Slack arrives over Socket Mode and the other routes stay on HTTP."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from tests.e2e.conftest import IrisServer, eventually, free_port, server_env
from tests.e2e.test_cli import run_iris

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def _socket_mode_env(standin: SlackStandin, workdir: Path, **overrides: str) -> dict[str, str]:
    env = server_env(standin, workdir, **{"SLACK_APP_TOKEN": "xapp-test", **overrides})
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs no signing secret
    return env


def test_socket_mode_connects_and_http_routes_keep_serving(standin: SlackStandin, tmp_path: Path) -> None:
    server = IrisServer(env=_socket_mode_env(standin, tmp_path), workdir=tmp_path).start()
    try:
        # Once to check the token before serving, once by the Socket Mode client itself.
        opened = standin.wait_for_calls("apps.connections.open", 2)
        assert all(c.ok and c.headers["Authorization"] == "Bearer xapp-test" for c in opened)
        assert server.get("/healthz").status_code == 200
        assert server.get("/readyz").status_code == 200
        events = server.get("/slack/events")
        assert events.status_code == 405  # GET is not a Slack method at all
        posted = httpx.post(server.base_url + "/slack/events", content=b"x=1", timeout=5)
        assert posted.status_code == 404
        assert "Socket Mode" in posted.json()["error"]
        assert eventually(lambda: "connected to Slack over Socket Mode" in server.log.read_text())
    finally:
        assert server.stop() == -signal.SIGTERM


def test_a_rejected_app_token_stops_start_up_in_one_sentence(standin: SlackStandin, tmp_path: Path) -> None:
    env = _socket_mode_env(standin, tmp_path, SLACK_APP_TOKEN="xapp-revoked-token-123")
    result = run_iris("serve", "--host", "127.0.0.1", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("iris: SLACK_APP_TOKEN was rejected by Slack (invalid_auth): ")
    assert "revoked-token-123" not in result.stderr + result.stdout


def test_serving_starts_and_stops_while_slack_is_unreachable(standin: SlackStandin, tmp_path: Path) -> None:
    # Nothing listens on this port: the token check and every Socket Mode attempt fail to connect.
    env = _socket_mode_env(standin, tmp_path, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    server = IrisServer(env=env, workdir=tmp_path).start()
    try:
        assert server.get("/healthz").status_code == 200
        assert server.get("/readyz").status_code == 503  # Slack cannot confirm the bot token
    finally:
        assert server.stop() == -signal.SIGTERM
    log = server.log.read_text()
    assert "checking SLACK_APP_TOKEN: Slack is unreachable" in log
    assert "IRIS stopped" in log


def test_a_slash_command_over_socket_mode_is_acknowledged_on_the_socket(
    standin: SlackStandin, tmp_path: Path
) -> None:
    env = server_env(standin, tmp_path, SLACK_APP_TOKEN="xapp-test")
    del env["SLACK_SIGNING_SECRET"]
    server = IrisServer(env=env, workdir=tmp_path).start()
    driver = SlackDriver(server.base_url, "unused", standin=standin)
    try:
        standin.wait_for(lambda s: s.connected_sockets() == 1)
        _, help_fields = driver.command_fields("help")
        help_id = standin.push_socket("slash_commands", help_fields)
        status_name, status_fields = driver.command_fields("status")
        status_id = standin.push_socket("slash_commands", status_fields)
        acks = standin.wait_for(lambda s: _acks(s, help_id, status_id))
        [status_reply] = standin.wait_for_response(status_name)
    finally:
        driver.close()
        server.stop()
    help_ack, status_ack = acks
    assert help_ack["payload"]["response_type"] == "ephemeral"
    assert "`/iris status" in help_ack["payload"]["text"]
    assert not status_ack.get("payload")  # acknowledged empty; the answer follows on the response_url
    assert status_reply["text"].startswith("IRIS 0.1.0: up ")


def _acks(standin: SlackStandin, *envelope_ids: str) -> list[dict] | None:  # type: ignore[type-arg]
    sent = {call.params.get("envelope_id"): call.params for call in standin.calls("socket")}
    return [sent[i] for i in envelope_ids] if all(i in sent for i in envelope_ids) else None
