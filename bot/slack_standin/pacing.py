"""Slack's rate limits as the stand-in applies them when asked: token buckets, 429 with Retry-After."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.slack_standin.model import Params


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int


@dataclass(frozen=True)
class SlackLimits:
    """What Slack allows: a channel takes about one new message a second (posts and shared files alike,
    with short bursts); chat.update is Tier 3, about 50 a minute for the workspace."""

    channel: Limit = Limit(1.0, 3)
    updates: Limit = Limit(50 / 60, 10)


class SlackPacing:
    """Decides, per call, whether Slack would refuse it for its rate; refused calls spend nothing."""

    def __init__(self, limits: SlackLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, when last refilled)

    def retry_after(self, method: str, params: Params) -> int | None:
        """Seconds to wait (Slack's Retry-After) when this call is over its limit, else None (spent)."""
        bucket = self._bucket(method, params)
        if bucket is None:
            return None
        key, limit = bucket
        now = self._clock()
        tokens, then = self._tokens.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - then) * limit.per_second)
        if tokens < 1:
            self._tokens[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / limit.per_second))
        self._tokens[key] = (tokens - 1, now)
        return None

    def _bucket(self, method: str, params: Params) -> tuple[str, Limit] | None:
        if method == "chat.postMessage":
            return f"channel:{params.get('channel')}", self._limits.channel
        if method == "files.completeUploadExternal":  # the moment a file is shared into the channel
            return f"channel:{params.get('channel_id') or params.get('channels')}", self._limits.channel
        if method == "chat.update":
            return "updates", self._limits.updates
        return None
