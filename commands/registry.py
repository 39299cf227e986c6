"""The one ordered tuple of features, and the loops over it that every other place uses.

The order is Bolt's matching order and the order of `/iris help`. Adding a feature is one line here
(see docs/architecture.md, "Adding a feature").
"""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp
from sqlmodel import SQLModel

from bot import config as bot_config
from bot.config import Config, Section
from bot.deps import Deps, Services
from commands import alerts, briefings, checklists, help, rehearsals, reports, status
from commands.feature import Background, Endpoint, Feature, Subparsers
from commands.help import usage_lines
from commands.kit import COMMAND, Command, register_command

FEATURES: tuple[Feature, ...] = (
    status.FEATURE,
    rehearsals.FEATURE,
    checklists.FEATURE,
    briefings.FEATURE,
    alerts.FEATURE,
    reports.FEATURE,
)


def all_commands(features: tuple[Feature, ...] = FEATURES) -> list[Command]:
    return [command for feature in features for command in feature.commands]


def register_all(app: AsyncApp, deps: Deps, features: tuple[Feature, ...] = FEATURES) -> None:
    """Help first, each feature's subcommands and listeners in order, then the answer to anything else."""
    commands = all_commands(features)
    help.register_help(app, deps, commands)
    for feature in features:
        for command in feature.commands:
            if command.available:
                register_command(app, deps, command)
        if feature.register is not None:
            feature.register(app, deps)
    help.register_fallback(app, deps, commands)


def config_sections(features: tuple[Feature, ...] = FEATURES) -> tuple[Section[Any], ...]:
    return tuple(section for feature in features for section in feature.config)


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Settings and iris.yml, with every feature's own section of it (Feature.config)."""
    return bot_config.load_config(environ, config_sections())


def build_services(deps: Deps, features: tuple[Feature, ...] = FEATURES) -> Services:
    """Each feature's services, built in order from the core's deps."""
    services = deps.services
    for feature in features:
        if feature.services is not None:
            services = services.plus(*feature.services(deps))
    return services


def backgrounds(
    deps: Deps, scheduler: BaseScheduler, features: tuple[Feature, ...] = FEATURES
) -> list[Background]:
    return [feature.background(deps, scheduler) for feature in features if feature.background is not None]


def endpoints(deps: Deps, features: tuple[Feature, ...] = FEATURES) -> list[Endpoint]:
    return [endpoint for feature in features if feature.endpoints for endpoint in feature.endpoints(deps)]


def add_cli(subparsers: Subparsers, features: tuple[Feature, ...] = FEATURES) -> None:
    for feature in features:
        if feature.cli is not None:
            feature.cli(subparsers)


def tables(features: tuple[Feature, ...] = FEATURES) -> list[type[SQLModel]]:
    """Every table of every feature, children before parents (the order tests empty them in)."""
    return [table for feature in reversed(features) for table in feature.tables]


def counted(features: tuple[Feature, ...] = FEATURES) -> tuple[tuple[str, type[SQLModel]], ...]:
    return tuple(entry for feature in features for entry in feature.counted)


def usage_hint(features: tuple[Feature, ...] = FEATURES) -> str:
    """The slash command's usage hint in the Slack app manifest: every subcommand word, help first."""
    return " | ".join(["help", *(command.word for command in all_commands(features))])


def command_table(features: tuple[Feature, ...] = FEATURES) -> str:
    """The README's command table, in Markdown, from the same declarations as /iris help.

    scripts/command_table.py writes it into README.md; tests/core/test_registry.py checks it is there.
    """
    rows = ["| command | what it does | reference |", "|---|---|---|"]
    synopsis, summary, _ = usage_lines([])[0]
    rows.append(f"| `{COMMAND} {synopsis}` | {summary} | |")
    for feature in features:
        for command in feature.commands:
            later = "" if command.available else " *(not available yet)*"
            for synopsis, summary in command.synopses():
                shown = synopsis.replace("|", "\\|")
                rows.append(
                    f"| `{COMMAND} {shown}` | {summary}{later} | [{feature.name}](docs/{feature.name}.md) |"
                )
    return "\n".join(rows) + "\n"
