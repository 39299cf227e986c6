"""Routing rules from iris.yml: label matchers (equality, regex) → channel and mention; first match wins."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator

from bot.config import CHANNEL_ID, Section


class RouteConfig(BaseModel):
    """One entry of iris.yml's `routes:`: which alert groups go to which channel, mentioning whom."""

    model_config = ConfigDict(extra="forbid")

    match: dict[str, str] = {}
    match_re: dict[str, str] = {}
    channel: str
    mention: str | None = None

    @field_validator("match_re")
    @classmethod
    def _compiles(cls, patterns: dict[str, str]) -> dict[str, str]:
        for label, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{label}: {pattern!r} is not a valid regular expression ({exc})") from exc
        return patterns

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not CHANNEL_ID.match(value):
            raise ValueError("must be a Slack channel ID such as C0123ABCD")
        return value


ROUTES: Section[list[RouteConfig]] = Section("routes", list[RouteConfig], list)


@dataclass(frozen=True)
class Route:
    channel: str
    mention: str | None = None


@dataclass(frozen=True)
class _Rule:
    equal: dict[str, str]
    regex: dict[str, re.Pattern[str]]
    route: Route

    def matches(self, labels: dict[str, str]) -> bool:
        # A missing label matches as the empty string, as in Alertmanager's own matchers.
        return all(labels.get(name, "") == value for name, value in self.equal.items()) and all(
            p.fullmatch(labels.get(name, "")) for name, p in self.regex.items()
        )


class Router:
    """Picks the channel for a group's labels; regexes are anchored at both ends, like Alertmanager's."""

    def __init__(self, routes: list[RouteConfig], default_channel: str | None) -> None:
        self._rules = [
            _Rule(
                dict(r.match),
                {name: re.compile(p) for name, p in r.match_re.items()},
                Route(r.channel, r.mention),
            )
            for r in routes
        ]
        self._default = Route(default_channel) if default_channel else None

    def route(self, labels: dict[str, str]) -> Route | None:
        """The first matching rule's route, else the default; None when nothing is configured."""
        for rule in self._rules:
            if rule.matches(labels):
                return rule.route
        return self._default
