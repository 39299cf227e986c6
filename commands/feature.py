"""A feature declares itself once: subcommands, listeners, services, background work, CLI, tables, config.

commands/registry.py holds the one ordered tuple of features; help, Bolt registration, the services,
background work, HTTP routes, `/iris status` counts, the `iris` CLI, the iris.yml schema and the
tests' table cleanup all loop over it. See docs/architecture.md, "Adding a feature".
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp
from sqlmodel import SQLModel
from starlette.requests import Request
from starlette.responses import Response

from bot.config import Section
from bot.deps import Deps
from commands.kit import Command

MAX_BODY_BYTES = 1024 * 1024  # Slack's own payloads are far smaller; anything bigger is not Slack
Subparsers = argparse._SubParsersAction  # type: ignore[type-arg]


class Background(Protocol):
    """What a feature runs beside the server. Started in FEATURES order, stopped in reverse."""

    def start(self) -> None:
        """Called once the database is migrated, before the first request (on a worker thread)."""

    def close(self) -> None:
        """Take no new work; called before IRIS waits for the jobs already running."""

    def stop(self, timeout: float) -> None:
        """End and release everything within `timeout` seconds; called after the jobs are done."""


@dataclass(frozen=True)
class Endpoint:
    """An HTTP route of `iris serve` beside /slack/events, such as an alert webhook."""

    path: str
    handler: Callable[[Request], Awaitable[Response]]
    methods: tuple[str, ...] = ("POST",)
    max_body: int = MAX_BODY_BYTES


@dataclass(frozen=True)
class Feature:
    """One feature: `bot/<name>/` (engine), `commands/<name>/` (its faces), `storage/<name>.py` (tables)."""

    name: str
    commands: tuple[Command, ...] = ()  # its `/iris` subcommands, in Bolt's matching order
    register: Callable[[AsyncApp, Deps], None] | None = None  # its buttons and forms
    services: Callable[[Deps], Sequence[object]] | None = None  # built once; handlers ask deps.service()
    background: Callable[[Deps, BaseScheduler], Background] | None = None
    cli: Callable[[Subparsers], None] | None = (
        None  # adds its `iris …` commands; args.load_config() reads iris.yml
    )
    endpoints: Callable[[Deps], Sequence[Endpoint]] | None = None
    tables: tuple[type[SQLModel], ...] = ()  # every table it owns, children before parents
    counted: tuple[tuple[str, type[SQLModel]], ...] = ()  # (English label, table) for /iris status
    config: tuple[Section[Any], ...] = ()  # its own top-level keys of iris.yml
