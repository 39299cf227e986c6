"""Who IRIS is in Slack, learned from auth.test off the request path and cached for readiness."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.slack_api import BotIdentity, SlackGateway

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
            try:
                identity = self._gateway.auth_test()
                self._last = IdentityCheck(identity, None, time.monotonic())
            except SlackApiError as exc:
                error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                self._last = IdentityCheck(self._last.identity, f"auth.test failed: {error or 'error'}",
                                           time.monotonic())
            except OSError as exc:
                self._last = IdentityCheck(self._last.identity, f"Slack unreachable: {exc}", time.monotonic())
        if self._last.error:
            log.warning("Slack identity check: %s", self._last.error)
        return self._last
