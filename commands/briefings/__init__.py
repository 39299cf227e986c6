"""Briefings: `/iris brief` schedules briefings and milestones with reminders, in the team's time zone."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp

from bot.briefings.scheduler import BRIEFINGS, InBackground
from bot.briefings.service import BriefingService
from bot.deps import Deps
from bot.i18n import N_
from commands.briefings.actions import add, answered, cancel, done, edit, firing_home, list_upcoming
from commands.briefings.parse import parse_add, parse_cancel, parse_done, parse_edit
from commands.briefings.publisher import SlackPublisher
from commands.briefings.views import ABSENT_ACTION, ATTEND_ACTION
from commands.feature import Feature
from commands.kit import Action, Command, no_arguments, on_click
from storage.briefings import Briefing, BriefingAnswer, BriefingFiring

BRIEF = Command(
    "brief",
    (
        Action(
            "add",
            '"<title>" <when> [remind=30m,5m] [channel=#ops] [agenda="…"] [attendees=@a,@b] '
            "[kind=briefing|milestone]",
            N_("Schedule a briefing or milestone with reminders before it."),
            parse_add,
            add,
        ),
        Action("list", "", N_("The briefings and milestones to come."), no_arguments, list_upcoming),
        Action(
            "edit",
            "<id> …",
            N_("Change a briefing: any part of add (its creator or an admin)."),
            parse_edit,
            edit,
        ),
        Action("cancel", "<id>", N_("Cancel a briefing (its creator or an admin)."), parse_cancel, cancel),
        Action(
            "done",
            '<id> [recording=<url>] [notes="…"]',
            N_("After it: the recording and notes to its thread and to each absentee."),
            parse_done,
            done,
        ),
    ),
)


def register(app: AsyncApp, deps: Deps) -> None:
    on_click(app, deps, ATTEND_ACTION, answered, "brief-answer", home=firing_home)
    on_click(app, deps, ABSENT_ACTION, answered, "brief-answer", home=firing_home)


def build(deps: Deps) -> list[object]:
    return [BriefingService(deps.engine, deps.clock, SlackPublisher(deps.t, deps.outbox))]


def background(deps: Deps, scheduler: BaseScheduler) -> InBackground:
    grace = timedelta(seconds=BRIEFINGS.of(deps.config).grace_seconds)
    return InBackground(deps.service(BriefingService), scheduler, grace)


FEATURE = Feature(
    name="briefings",
    commands=(BRIEF,),
    register=register,
    services=build,
    background=background,
    tables=(BriefingAnswer, BriefingFiring, Briefing),
    counted=((N_("Briefings"), Briefing),),
    config=(BRIEFINGS,),
)
