"""Everything handlers and jobs need, in one frozen dataclass built once by the entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Engine

from bot.config import Config
from bot.i18n import Translator
from bot.jobs import JobRunner
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.permissions import Roles
from bot.slack.api import SlackGateway
from bot.slack.identity import IdentityCache

S = TypeVar("S")


@dataclass(frozen=True)
class Services:
    """The features' services, found by their class; each feature declares how to build its own."""

    by_class: Mapping[type[Any], object] = field(default_factory=dict)

    def get(self, kind: type[S]) -> S:
        try:
            return cast(S, self.by_class[kind])
        except KeyError:
            raise LookupError(f"no {kind.__name__} was built: is its feature in FEATURES?") from None

    def all_of(self, kind: type[S]) -> list[S]:
        """Every service that is a `kind` (such as a health probe), in the order they were built."""
        return [service for service in self.by_class.values() if isinstance(service, kind)]

    def plus(self, *services: object) -> Services:
        return Services({**self.by_class, **{type(service): service for service in services}})

    def replacing(self, kind: type[S], service: S) -> Services:
        """For tests: another object (a fake) where `kind` is asked for."""
        return Services({**self.by_class, kind: service})


@dataclass(frozen=True)
class Deps:
    config: Config
    engine: Engine
    t: Translator
    metrics: Metrics
    slack: SlackGateway
    identity: IdentityCache
    outbox: Outbox
    jobs: JobRunner
    roles: Roles
    clock: Callable[[], datetime]
    started_at: float  # time.monotonic() when the process started serving
    services: Services = Services()

    def service(self, kind: type[S]) -> S:
        return self.services.get(kind)
