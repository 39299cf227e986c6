"""The one place IRIS talks to Slack's Web API; every answer becomes Delivered, Retry or Dead."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.metrics import Metrics

log = logging.getLogger(__name__)

# Slack answers these with ok:false although trying again later can succeed.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# The token itself is refused: no message can go until an operator fixes it, but none is lost.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
AUTH_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Delivered:
    channel: str | None = None
    ts: str | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class Retry:
    reason: str
    after_seconds: float | None = None  # None: use the poster's exponential back-off
    rate_limited: bool = False
    auth_failed: bool = False


@dataclass(frozen=True)
class Dead:
    reason: str


Outcome = Delivered | Retry | Dead


@dataclass(frozen=True)
class BotIdentity:
    team_id: str
    user_id: str
    bot_id: str | None
    url: str | None


class SlackGateway:
    """Synchronous Slack calls, used from the outbox poster's and job runner's threads.

    slack-sdk's own retries are switched off (`retry_handlers=[]`): the outbox owns retrying, so
    a 429 or a 500 is recorded, paced and survives a restart instead of blocking a thread.
    """

    def __init__(self, token: str, api_url: str, metrics: Metrics, timeout: float = 10.0) -> None:
        self._client = WebClient(token=token, base_url=api_url, timeout=int(timeout), retry_handlers=[])
        self._http = httpx.Client(timeout=timeout)
        self._metrics = metrics

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, **arguments: Any) -> Outcome:
        """Call a Web API method; the answer's channel and ts come back when it has them."""
        try:
            response = self._client.api_call(method, json=arguments)
        except SlackApiError as exc:
            return self._count(method, _from_api_error(exc))
        except (SlackRequestError, OSError) as exc:  # URLError, timeouts, refused connections
            return self._count(method, Retry(reason=f"network error: {exc}"))
        data = response.data if isinstance(response.data, dict) else {}
        ts = data.get("ts") or data.get("message_ts")
        return self._count(method, Delivered(channel=data.get("channel"), ts=ts))

    def upload(
        self,
        *,
        channel: str,
        filename: str,
        content: str | None = None,
        content_base64: str | None = None,
        title: str | None = None,
        initial_comment: str | None = None,
        thread_ts: str | None = None,
    ) -> Outcome:
        """files.getUploadURLExternal → upload → files.completeUploadExternal, as one delivery."""
        data: str | bytes = base64.b64decode(content_base64) if content_base64 is not None else content or ""
        try:
            response = self._client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=data,
                title=title or filename,
                initial_comment=initial_comment,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            return self._count("files.upload", _from_api_error(exc))
        except (SlackRequestError, OSError) as exc:
            return self._count("files.upload", Retry(reason=f"network error: {exc}"))
        files = response.data.get("files", []) if isinstance(response.data, dict) else []
        file_id = files[0].get("id") if files else None
        return self._count("files.upload", Delivered(channel=channel, file_id=file_id))

    def respond(self, response_url: str, body: dict[str, Any]) -> Outcome:
        """POST to a slash command's or an action's response_url (works 5 times in 30 minutes)."""
        try:
            answer = self._http.post(response_url, json=body)
        except httpx.HTTPError as exc:
            return self._count("response_url", Retry(reason=f"network error: {type(exc).__name__}"))
        return self._count("response_url", _from_http_status(answer))

    def auth_test(self) -> BotIdentity:
        """Who the token belongs to; raises SlackApiError or OSError when Slack cannot say."""
        try:
            data = self._client.auth_test().data
        except SlackApiError:
            self._metrics.slack_calls.labels("auth.test", "error").inc()
            raise
        self._metrics.slack_calls.labels("auth.test", "ok").inc()
        assert isinstance(data, dict)
        return BotIdentity(
            team_id=data["team_id"], user_id=data["user_id"], bot_id=data.get("bot_id"), url=data.get("url")
        )

    def user_name(self, user_id: str) -> str | None:
        """The name Slack shows for a person (real name, else display name); None when Slack cannot say."""
        try:
            data = self._client.users_info(user=user_id).data
        except (SlackApiError, SlackRequestError, OSError):
            self._metrics.slack_calls.labels("users.info", "error").inc()
            return None
        self._metrics.slack_calls.labels("users.info", "ok").inc()
        user = data.get("user") if isinstance(data, dict) else None
        if not isinstance(user, dict):
            return None
        profile = user.get("profile") or {}
        return str(profile.get("real_name") or profile.get("display_name") or user.get("name") or "") or None

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        response = self._client.usergroups_users_list(usergroup=usergroup_id)
        self._metrics.slack_calls.labels("usergroups.users.list", "ok").inc()
        return list(response.get("users", []))

    def _count(self, method: str, outcome: Outcome) -> Outcome:
        result = {Delivered: "ok", Retry: "retry", Dead: "dead"}[type(outcome)]
        if isinstance(outcome, Retry) and outcome.rate_limited:
            result = "rate_limited"
        elif isinstance(outcome, Retry) and outcome.auth_failed:
            result = "auth_failed"
        self._metrics.slack_calls.labels(method, result).inc()
        return outcome


def _from_api_error(exc: SlackApiError) -> Outcome:
    status = exc.response.status_code
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    error = str(data.get("error", f"HTTP {status}"))
    if status == 429 or error == "ratelimited":
        return Retry(
            reason="rate limited by Slack",
            after_seconds=_retry_after(exc.response.headers),
            rate_limited=True,
        )
    if status >= 500 or error in TRANSIENT_ERRORS:
        return Retry(reason=f"Slack answered {error}")
    if error in AUTH_ERRORS:
        return Retry(
            reason=f"Slack refused the bot token ({error})",
            after_seconds=AUTH_RETRY_SECONDS,
            auth_failed=True,
        )
    return Dead(reason=error)


def _from_http_status(answer: httpx.Response) -> Outcome:
    if answer.status_code < 300:
        return Delivered()
    if answer.status_code == 429:
        return Retry(
            reason="rate limited by Slack", after_seconds=_retry_after(answer.headers), rate_limited=True
        )
    if answer.status_code >= 500:
        return Retry(reason=f"response_url answered HTTP {answer.status_code}")
    # 404 means the response_url expired (30 minutes, 5 uses): trying again cannot help.
    return Dead(reason=f"response_url answered HTTP {answer.status_code}")


def _retry_after(headers: Any) -> float:
    value = None
    for name in ("Retry-After", "retry-after"):
        raw = headers.get(name) if headers else None
        value = raw[0] if isinstance(raw, list) else raw
        if value:
            break
    try:
        return max(1.0, float(value)) if value else 1.0
    except ValueError:
        return 1.0
