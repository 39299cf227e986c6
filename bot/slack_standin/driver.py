"""Drives a running IRIS the way Slack does: signed slash commands, button clicks and modal submissions."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:
    from bot.slack_standin.server import SlackStandin

Params = dict[str, Any]


def sign_request(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Slack's v0 request signature headers for `body` sent at `timestamp`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True)
class SignedRequest:
    """A request body and headers ready to POST to /slack/events."""

    body: bytes
    headers: dict[str, str]
    response_url_name: str | None = None
    trigger_id: str | None = None  # what views.open will be called with, for a command or a click


@dataclass(frozen=True)
class DriverResult:
    """What IRIS answered to one driven request."""

    status_code: int
    headers: dict[str, str]
    body: str
    elapsed: float
    response_url_name: str | None = None

    def json(self) -> Any | None:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class SlackDriver:
    """Sends Slack-shaped, really signed requests to IRIS's `POST /slack/events`."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        standin: SlackStandin | None = None,
        team_id: str = "T0001",
        team_domain: str = "iris-test",
        *,
        api_app_id: str = "A0IRIS",
        verification_token: str = "verification-token",
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.events_url = base_url.rstrip("/") + "/slack/events"
        self._secret = signing_secret
        self._standin = standin
        self._team = {"id": team_id, "domain": team_domain}
        self._app_id = api_app_id
        self._token = verification_token
        self._counter = itertools.count(1)
        self._client = httpx.Client(timeout=timeout, trust_env=False)  # loopback: no proxy
        self._clock = clock  # Slack's clock: requests are signed with its time (IRIS refuses stale ones)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- signing and sending ----------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return sign_request(self._secret, body, int(self._clock()) if timestamp is None else timestamp)

    def raw(self, body: bytes, headers: dict[str, str]) -> DriverResult:
        """POST `body` exactly as given, for malformed, oversized or unsigned requests."""
        return self._post(SignedRequest(body, headers))

    def send(self, request: SignedRequest) -> DriverResult:
        """POST a request built by one of the `build_*` methods."""
        return self._post(request)

    def _post(self, request: SignedRequest) -> DriverResult:
        started = time.perf_counter()
        response = self._client.post(self.events_url, content=request.body, headers=request.headers)
        return self._result(response, started, request)

    async def _post_async(self, client: httpx.AsyncClient, request: SignedRequest) -> DriverResult:
        started = time.perf_counter()
        response = await client.post(self.events_url, content=request.body, headers=request.headers)
        return self._result(response, started, request)

    @staticmethod
    def _result(response: httpx.Response, started: float, request: SignedRequest) -> DriverResult:
        elapsed = time.perf_counter() - started
        headers = dict(response.headers)
        return DriverResult(response.status_code, headers, response.text, elapsed, request.response_url_name)

    def _signed(
        self,
        fields: dict[str, str],
        timestamp: int | None,
        signature: str | None,
        name: str | None,
        trigger_id: str | None = None,
    ) -> SignedRequest:
        """Form-encode and sign `fields`; `signature=""` omits the signature, other text replaces it."""
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Slackbot 1.0"}
        if signature != "":
            headers |= self.sign(body, timestamp)
        if signature:
            headers["X-Slack-Signature"] = signature
        return SignedRequest(body, headers, name, trigger_id)

    # -- identifiers ------------------------------------------------------------------------------

    def _response_url(self, kind: str) -> tuple[str | None, str]:
        """A fresh response_url: recorded by the stand-in if there is one, else a Slack-like dead URL."""
        number, secret = next(self._counter), uuid.uuid4().hex
        if self._standin is None:
            return None, f"https://hooks.slack.com/{kind}/{self._team['id']}/{number}/{secret}"
        name = f"{kind}-{number}-{secret[:8]}"
        return name, self._standin.response_url(name)

    def _trigger_id(self) -> str:
        return f"{next(self._counter)}{int(time.time())}.{self._team['id'][1:]}.{uuid.uuid4().hex}"

    def _user(self, user_id: str) -> Params:
        return {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": self._team["id"],
        }

    # -- slash commands ---------------------------------------------------------------------------

    def build_command(
        self,
        text: str,
        *,
        user_id: str = "U0USER",
        channel_id: str = "C0OPS",
        command: str = "/iris",
        timestamp: int | None = None,
        signature: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> SignedRequest:
        """The signed form body Slack sends for a slash command, with every field Slack includes."""
        name, fields = self.command_fields(text, user_id=user_id, channel_id=channel_id, command=command)
        return self._signed(fields | (extra or {}), timestamp, signature, name, fields["trigger_id"])

    def command_fields(
        self, text: str, *, user_id: str = "U0USER", channel_id: str = "C0OPS", command: str = "/iris"
    ) -> tuple[str | None, dict[str, str]]:
        """The fields of a slash command (as Socket Mode delivers them), and its response_url's name."""
        name, response_url = self._response_url("commands")
        fields = {
            "token": self._token,
            "team_id": self._team["id"],
            "team_domain": self._team["domain"],
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self._app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self._trigger_id(),
        }
        return name, fields

    def answer(self, result: DriverResult) -> dict[str, Any]:
        """What the user gets (text, blocks, response_type): the ack's own body, or else the first
        reply to its response_url."""
        if result.body:
            answer = result.json()
            assert isinstance(answer, dict), result.body
            return answer
        assert self._standin is not None and result.response_url_name is not None
        return dict(self._standin.wait_for_response(result.response_url_name)[0])

    def answer_text(self, result: DriverResult) -> str:
        """The text the user sees."""
        return str(self.answer(result)["text"])

    def command(self, text: str, **options: Any) -> DriverResult:
        """Send `build_command(text, **options)` and return what IRIS answered."""
        return self._post(self.build_command(text, **options))

    async def async_command(self, client: httpx.AsyncClient, text: str, **options: Any) -> DriverResult:
        """`command` over a caller's AsyncClient, for benchmarks that send many at once."""
        return await self._post_async(client, self.build_command(text, **options))

    # -- interactivity ----------------------------------------------------------------------------

    def _message(self, channel_id: str, message_ts: str | None) -> Params:
        """The clicked message: the stand-in's copy when it has one, else a plausible bot message."""
        stored = self._standin.message_payload(channel_id, message_ts) if self._standin else None
        return stored or {"type": "message", "text": "", "ts": message_ts or "1700000000.000100"}

    def _message_with_button(self, channel_id: str, action_id: str, value: str | None) -> str | None:
        """The newest message in the channel showing this button, as a person would click it."""
        if self._standin is None:
            return None
        for message in reversed(self._standin.messages(channel_id)):
            if _has_button(message.blocks or [], action_id, value):
                return message.ts
        return None

    def _envelope(self, kind: str, user_id: str) -> Params:
        """The fields every interaction payload carries."""
        return {
            "type": kind,
            "team": self._team,
            "user": self._user(user_id),
            "api_app_id": self._app_id,
            "token": self._token,
            "trigger_id": self._trigger_id(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def build_block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "b",
        user_id: str = "U0USER",
        channel_id: str = "C0OPS",
        message_ts: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> SignedRequest:
        """A `block_actions` payload for a button click on a message in `channel_id`."""
        name, response_url = self._response_url("actions")
        message = self._message(
            channel_id, message_ts or self._message_with_button(channel_id, action_id, value)
        )
        action: Params = {"action_id": action_id, "block_id": block_id, "type": "button"}
        action |= {"action_ts": f"{time.time():.6f}"} | ({"value": value} if value is not None else {})
        payload = self._envelope("block_actions", user_id) | {
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel_id},
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        fields = {"payload": json.dumps(payload)}
        return self._signed(fields, timestamp, signature, name, payload["trigger_id"])

    def block_action(self, action_id: str, value: str | None = None, **options: Any) -> DriverResult:
        return self._post(self.build_block_action(action_id, value, **options))

    def _submitted_view(
        self, view_id: str, callback_id: str, values: Params, private_metadata: str
    ) -> Params:
        return {
            "id": view_id,
            "team_id": self._team["id"],
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": "IRIS"},
            "blocks": [],
            "app_id": self._app_id,
            "root_view_id": view_id,
            "previous_view_id": None,
            "external_id": "",
        }

    def build_view_submission(
        self,
        callback_id: str,
        values: Params,
        *,
        private_metadata: str = "",
        user_id: str = "U0USER",
        view_id: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> SignedRequest:
        """A `view_submission` payload; `values` is Slack's `state.values`: {block_id: {action_id: {...}}}."""
        view = self._submitted_view(
            view_id or f"V{uuid.uuid4().hex[:10].upper()}", callback_id, values, private_metadata
        )
        payload = self._envelope("view_submission", user_id) | {"view": view, "response_urls": []}
        return self._signed({"payload": json.dumps(payload)}, timestamp, signature, None)

    def view_submission(self, callback_id: str, values: Params, **options: Any) -> DriverResult:
        return self._post(self.build_view_submission(callback_id, values, **options))


def _has_button(node: Any, action_id: str, value: str | None) -> bool:
    if isinstance(node, list):
        return any(_has_button(child, action_id, value) for child in node)
    if not isinstance(node, dict):
        return False
    if node.get("action_id") == action_id and node.get("value") == value:
        return True
    return any(
        _has_button(child, action_id, value) for child in node.values() if isinstance(child, (dict, list))
    )
