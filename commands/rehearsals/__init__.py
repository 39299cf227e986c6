"""Rehearsals: `/iris rehearse` runs a change under injected HTTP faults and reports live in Slack."""

from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.i18n import N_
from bot.rehearsals import cli
from bot.rehearsals.service import InBackground, RehearsalService
from commands.feature import Feature
from commands.kit import Action, Command, no_arguments, on_click
from commands.rehearsals.actions import (
    abort,
    abort_clicked,
    list_scenarios,
    rehearsal_home,
    show_status,
    start,
)
from commands.rehearsals.parse import parse_id, parse_optional_id, parse_start
from commands.rehearsals.publisher import SlackPublisher
from commands.rehearsals.views import ABORT_ACTION
from storage.rehearsals import Rehearsal, RehearsalAttempt, RehearsalRun

REHEARSE = Command(
    "rehearse",
    (
        Action(
            None,
            "<scenario> [runs=N] [dry-run]",
            N_("Rehearse a change under injected HTTP faults."),
            parse_start,
            start,
        ),
        Action(
            "list",
            "",
            N_("The scenarios IRIS can rehearse, and any that are broken."),
            no_arguments,
            list_scenarios,
        ),
        Action(
            "status",
            "[id]",
            N_("Where the running and recent rehearsals stand."),
            parse_optional_id,
            show_status,
        ),
        Action("abort", "<id>", N_("Stop a running rehearsal and its target."), parse_id, abort),
    ),
)


def register(app: AsyncApp, deps: Deps) -> None:
    on_click(app, deps, ABORT_ACTION, abort_clicked, "rehearse-abort", home=rehearsal_home)


def build(deps: Deps) -> list[object]:
    scenarios = deps.config.iris.folders.scenarios
    alertmanager = deps.config.settings.iris_alertmanager_url
    return [
        RehearsalService(
            deps.engine, scenarios, SlackPublisher(deps.t, deps.outbox), alertmanager_url=alertmanager
        )
    ]


def background(deps: Deps, _: BaseScheduler) -> InBackground:
    return InBackground(deps.service(RehearsalService))


FEATURE = Feature(
    name="rehearsals",
    commands=(REHEARSE,),
    register=register,
    services=build,
    background=background,
    cli=cli.add_commands,
    tables=(RehearsalAttempt, RehearsalRun, Rehearsal),
    counted=((N_("Rehearsals"), Rehearsal),),
)
