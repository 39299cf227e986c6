"""The report as the commands, the CLI and the schedule ask for it: written, rendered, posted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.i18n import translator
from bot.reports.compose import Byline, compose
from bot.reports.day import collect
from bot.reports.model import Report
from bot.reports.render import render_html, render_markdown
from bot.reports.settings import ReportsConfig
from storage.audit import Audit
from storage.db import read_scope, session_scope

NameOf = Callable[[str], str]


@dataclass(frozen=True)
class Written:
    """A report and its two written forms, as they are posted and attached."""

    report: Report
    markdown: str
    html: str

    @property
    def files(self) -> dict[str, str]:
        day = self.report.day.isoformat()
        return {
            f"report-{day}-{self.report.lang}.md": self.markdown,
            f"report-{day}-{self.report.lang}.html": self.html,
        }


class Publisher(Protocol):
    """The reports' port to Slack (commands/reports implements it)."""

    def post(self, session: Session, written: Written, channel: str) -> int:
        """Queue the report in `channel` with its files in its thread; the post's outbox id."""
        ...


class ReportService:
    def __init__(
        self,
        engine: Engine,
        zone: str,
        settings: ReportsConfig,
        clock: Callable[[], datetime],
        *,
        lang: str = "en",
        publisher: Publisher | None = None,
        name_of: NameOf = str,
    ) -> None:
        self.engine = engine
        self.zone = zone
        self.settings = settings
        self.clock = clock
        self.lang = lang
        self.publisher = publisher
        self._name_of = name_of

    def today(self) -> date:
        return self.clock().astimezone(ZoneInfo(self.zone)).date()

    def report(self, day: date, lang: str | None = None, byline: Byline | None = None) -> Report:
        with read_scope(self.engine) as session:
            facts = collect(session, day, self.zone)
        t = translator(lang or self.lang)
        return compose(facts, t, self.zone, self.settings, byline or Byline(), self._name_of)

    def written(self, day: date, lang: str | None = None, byline: Byline | None = None) -> Written:
        report = self.report(day, lang, byline)
        return Written(report, render_markdown(report), render_html(report))

    def post(
        self, day: date, channel: str, audit: Audit, lang: str | None = None, byline: Byline | None = None
    ) -> int:
        """Post a day's report now (a person asked: the byline's user), audited with the post."""
        written = self.written(day, lang, replace(byline or Byline(), user=audit.actor.user_id))
        assert self.publisher is not None
        with session_scope(self.engine) as session:
            message_id = self.publisher.post(session, written, channel)
            audit.record(session, day.isoformat(), channel=channel, lang=written.report.lang)
        return message_id


def day_in_range(day: date, today: date) -> bool:
    """A report is of a day that has begun, and not of one before IRIS could have recorded it."""
    return today - timedelta(days=3660) <= day <= today
