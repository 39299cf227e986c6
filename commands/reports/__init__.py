"""The daily report: `/iris note` and `/iris report`, the scheduled post, and `iris report`.

The team's day, written from what IRIS recorded, in Korean and English, as Slack, Markdown and
paste-ready HTML.
"""

from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.i18n import N_
from bot.reports.notes import NoteService
from bot.reports.schedule import DailyPost
from bot.reports.service import ReportService
from bot.reports.settings import REPORTS
from commands.feature import Feature
from commands.kit import Action, Command, on_click
from commands.reports.actions import (
    add_note,
    delete_note,
    html_clicked,
    list_notes,
    markdown_clicked,
    post,
    post_clicked,
    preview,
)
from commands.reports.cli import add_cli
from commands.reports.parse import parse_note, parse_note_id, parse_optional_day, parse_report
from commands.reports.publisher import People, SlackPublisher
from commands.reports.views import HTML_ACTION, MARKDOWN_ACTION, POST_ACTION
from storage.reports import Note, ReportPost

NOTE = Command(
    "note",
    (
        Action(
            "list",
            "[date]",
            N_("The notes of a day's report, with their ids."),
            parse_optional_day,
            list_notes,
        ),
        Action("delete", "<id>", N_("Delete a note (its author or an admin)."), parse_note_id, delete_note),
        Action(
            None,
            '<goal|work|problem|next|ref> "<text>" [response="…"] [date=YYYY-MM-DD]',
            N_("Add a note to the day's report."),
            parse_note,
            add_note,
        ),
    ),
)
REPORT = Command(
    "report",
    (
        Action(
            "post",
            '[date] [lang=ko|en] [stage="…"] [keywords="a, b"]',
            N_("Post the day's report to the reports channel, with its files."),
            parse_report,
            post,
        ),
        Action(
            None,
            '[date] [lang=ko|en] [stage="…"] [keywords="a, b"]',
            N_("Write the day's report, shown only to you."),
            parse_report,
            preview,
        ),
    ),
)


def register(app: AsyncApp, deps: Deps) -> None:
    # The preview's buttons act on nothing stored: they carry the day and options, checked on click,
    # and answer (or post) in the channel the preview was asked for in.
    on_click(app, deps, POST_ACTION, post_clicked, "report-post", home=None)
    on_click(app, deps, MARKDOWN_ACTION, markdown_clicked, "report-markdown", home=None)
    on_click(app, deps, HTML_ACTION, html_clicked, "report-html", home=None)


def build(deps: Deps) -> list[object]:
    settings = deps.config.settings
    people = People(deps.slack.user_name)
    reports = ReportService(
        deps.engine,
        settings.iris_timezone,
        REPORTS.of(deps.config),
        deps.clock,
        lang=settings.iris_lang,
        publisher=SlackPublisher(deps.outbox),
        name_of=people.name_of,
    )
    return [NoteService(deps.engine, lambda user: deps.roles.holds(user, "admins"), deps.clock), reports]


def background(deps: Deps, scheduler: BaseScheduler) -> DailyPost:
    return DailyPost(deps.service(ReportService), scheduler, deps.config.iris.channels.reports)


FEATURE = Feature(
    name="reports",
    commands=(NOTE, REPORT),
    register=register,
    services=build,
    background=background,
    cli=add_cli,
    tables=(Note, ReportPost),
    counted=((N_("Report notes"), Note),),
    config=(REPORTS,),
)
