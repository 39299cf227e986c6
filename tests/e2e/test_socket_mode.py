"""With SLACK_APP_TOKEN set, Slack arrives over Socket Mode and the other routes stay on HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.testing.slack_standin import SlackStandin
from tests.e2e.conftest import IrisServer, server_env


def test_socket_mode_connects_and_http_routes_keep_serving(standin: SlackStandin, tmp_path: Path) -> None:
    env = server_env(standin, tmp_path, SLACK_APP_TOKEN="xapp-test", SLACK_SIGNING_SECRET="")
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs no signing secret
    server = IrisServer(env=env, workdir=tmp_path).start()
    try:
        [opened] = standin.wait_for_calls("apps.connections.open", 1)
        assert opened.ok and opened.headers["Authorization"] == "Bearer xapp-test"
        assert server.get("/healthz").status_code == 200
        assert server.get("/readyz").status_code == 200
        events = server.get("/slack/events")
        assert events.status_code == 405  # GET is not a Slack method at all
        posted = httpx.post(server.base_url + "/slack/events", content=b"x=1", timeout=5)
        assert posted.status_code == 404
        assert "Socket Mode" in posted.json()["error"]
    finally:
        server.stop()
    assert "connected to Slack over Socket Mode" in server.log.read_text()
