"""Who IRIS is in Slack, learned from auth.test off the request path and cached for readiness."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack.api import BotIdentity, SlackGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityCheck:
    identity: BotIdentity | None
    error: str | None
    checked_at: float  # time.monotonic()


class IdentityCache:
    def __init__(self, gateway: SlackGateway, max_age_seconds: float = 60.0) -> None:
        self._gateway = gateway
        self._max_age = max_age_seconds
        self._lock = threading.Lock()
        self._last = IdentityCheck(identity=None, error="not checked yet", checked_at=float("-inf"))

    @property
    def known(self) -> BotIdentity | None:
        """The last identity Slack confirmed; never calls Slack (safe on the ack path)."""
        return self._last.identity

    def check(self) -> IdentityCheck:
        """auth.test, unless the last answer is recent; blocking, so call it from a thread."""
        if time.monotonic() - self._last.checked_at < self._max_age:
            return self._last
        with self._lock:
            last = self._last = self._ask_slack()
        if last.error:
            log.warning("Slack identity check: %s", last.error)
        return last

    def _ask_slack(self) -> IdentityCheck:
        try:
            return IdentityCheck(self._gateway.auth_test(), None, time.monotonic())
        except SlackApiError as exc:
            error = f"auth.test failed: {_api_error(exc)}"
        except (SlackRequestError, OSError) as exc:
            error = f"Slack is unreachable, so the bot token could not be confirmed: {exc}"
        # The last confirmed identity stays known: authorizing requests must not depend on this call.
        return IdentityCheck(self._last.identity, error, time.monotonic())


def _api_error(exc: SlackApiError) -> str:
    """Slack's error code, or the HTTP status when the answer was not Slack's JSON at all."""
    if isinstance(exc.response.data, dict) and exc.response.data.get("error"):
        return str(exc.response.data["error"])
    return f"HTTP {exc.response.status_code}"
