"""The Slack driver signs and shapes requests the way Slack does, so Bolt accepts them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.slack_standin.driver import SlackDriver, sign_request
from bot.slack_standin.server import SlackStandin

SECRET = "test-signing-secret"
# Slack's worked example (docs.slack.dev, "Verifying requests from Slack"), byte for byte.
SLACK_EXAMPLE_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLASH_COMMAND_FIELDS = {
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
}


def form_fields(body: bytes) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def is_valid(body: bytes, headers: dict[str, str]) -> bool:
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    return SignatureVerifier(SECRET).is_valid(body, timestamp, signature)


def build_bolt_app(standin: SlackStandin, seen: list[dict[str, Any]]) -> App:
    """A minimal IRIS stand-in: acks, remembers what it got and answers through response_url."""
    client = WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[])
    app = App(client=client, signing_secret=SECRET)

    @app.command("/iris")
    def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
        ack()
        seen.append(command)
        respond(f"got {command['text']}")

    @app.action("ack_alert")
    def on_action(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    @app.view("brief")
    def on_view(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    return app


def serve(app: App) -> ThreadingHTTPServer:
    class BoltHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = app.dispatch(BoltRequest(body=body.decode(), headers=dict(self.headers.items())))
            self.send_response(answer.status)
            self.end_headers()
            self.wfile.write(answer.body.encode())

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), BoltHandler)
    # A short poll interval keeps shutdown() at teardown quick.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def driver(standin: SlackStandin, seen: list[dict[str, Any]]) -> Iterator[SlackDriver]:
    server = serve(build_bolt_app(standin, seen))
    with SlackDriver(f"http://127.0.0.1:{server.server_address[1]}", SECRET, standin) as running:
        yield running
    server.shutdown()
    server.server_close()


def test_signature_matches_slacks_worked_example() -> None:
    headers = sign_request("8f742231b10e8888abcd99yyyzzz85a5", SLACK_EXAMPLE_BODY.encode(), 1531420618)

    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


def test_command_body_passes_slack_sdk_verification(standin: SlackStandin) -> None:
    driver = SlackDriver("http://127.0.0.1:1", SECRET, standin)

    request = driver.build_command("rehearse retry-v1.2.yml", user_id="U42")

    assert is_valid(request.body, request.headers)
    fields = form_fields(request.body)
    assert set(fields) == SLASH_COMMAND_FIELDS
    assert (fields["text"], fields["user_id"]) == ("rehearse retry-v1.2.yml", "U42")
    assert fields["command"] == "/iris"
    assert fields["response_url"] == standin.response_url(request.response_url_name or "")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_each_command_gets_its_own_response_url_and_trigger_id(standin: SlackStandin) -> None:
    driver = SlackDriver("http://127.0.0.1:1", SECRET, standin)

    first, second = (form_fields(driver.build_command("status").body) for _ in range(2))

    assert first["response_url"] != second["response_url"]
    assert first["trigger_id"] != second["trigger_id"]


def test_stale_wrong_and_missing_signatures_are_built_on_request() -> None:
    driver = SlackDriver("http://127.0.0.1:1", SECRET)

    stale = driver.build_command("status", timestamp=int(time.time()) - 600)
    wrong = driver.build_command("status", signature="v0=deadbeef")
    unsigned = driver.build_command("status", signature="")

    assert not is_valid(stale.body, stale.headers)
    assert wrong.headers["X-Slack-Signature"] == "v0=deadbeef" and not is_valid(wrong.body, wrong.headers)
    assert "X-Slack-Signature" not in unsigned.headers
    assert form_fields(stale.body)["response_url"].startswith("https://hooks.slack.com/commands/T0001/")


def test_bolt_runs_the_command_and_its_response_reaches_the_standin(
    driver: SlackDriver, standin: SlackStandin, seen: list[dict[str, Any]]
) -> None:
    result = driver.command("status", channel_id="C0OPS")

    assert result.status_code == 200
    assert result.response_url_name is not None
    [answer] = standin.wait_for_response(result.response_url_name)
    assert answer["text"] == "got status"
    assert seen[0]["channel_id"] == "C0OPS"


def test_bolt_refuses_stale_and_unsigned_commands(driver: SlackDriver, seen: list[dict[str, Any]]) -> None:
    stale = driver.command("status", timestamp=int(time.time()) - 600)
    unsigned = driver.command("status", signature="")

    assert (stale.status_code, unsigned.status_code) == (401, 401)
    assert seen == []


def test_raw_garbage_is_refused(driver: SlackDriver) -> None:
    result = driver.raw(b"\x00not a slack request", {"Content-Type": "application/octet-stream"})

    assert result.status_code == 401
    assert result.json() is None or isinstance(result.json(), dict)


def test_block_action_carries_the_clicked_message(
    driver: SlackDriver, standin: SlackStandin, seen: list[dict[str, Any]]
) -> None:
    client = WebClient(token="xoxb-test", base_url=standin.api_url)
    ts = client.chat_postMessage(channel="C0OPS", text="HighErrorRate firing")["ts"]

    result = driver.block_action("ack_alert", "group-7", channel_id="C0OPS")

    assert result.status_code == 200
    body = seen[0]
    assert body["actions"][0]["value"] == "group-7"
    assert body["message"]["ts"] == ts and body["message"]["text"] == "HighErrorRate firing"
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": "C0OPS"}


def test_view_submission_carries_values_and_metadata(driver: SlackDriver, seen: list[dict[str, Any]]) -> None:
    values = {"when": {"time": {"type": "timepicker", "selected_time": "16:00"}}}

    result = driver.view_submission("brief", values, private_metadata="C0OPS")

    assert result.status_code == 200
    view = seen[0]["view"]
    assert view["state"]["values"] == values and view["private_metadata"] == "C0OPS"


def test_async_command_shares_the_request_building(driver: SlackDriver, standin: SlackStandin) -> None:
    async def send_three() -> list[int]:
        async with httpx.AsyncClient() as client:
            results = await asyncio.gather(*(driver.async_command(client, f"note {n}") for n in range(3)))
        return [r.status_code for r in results]

    assert asyncio.run(send_three()) == [200, 200, 200]
    answered = standin.wait_for_calls("response_url", 3)
    assert sorted(c.params["text"] for c in answered) == ["got note 0", "got note 1", "got note 2"]
