"""`iris report --date D`: the day's report from the database, on standard output or into a file.

It lives beside the report's Slack face because one of its forms (`--format slack`) is the Block Kit
that face posts.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from bot.config import Config
from bot.errors import CliError, UserError
from bot.i18n import LANGUAGES, N_, translator
from bot.reports.compose import Byline
from bot.reports.model import Report
from bot.reports.render import render_html, render_json, render_markdown
from bot.reports.service import ReportService, day_in_range
from bot.reports.settings import REPORTS
from commands.feature import Subparsers
from commands.reports.parse import heading
from commands.reports.views import render_report
from storage.clock import utcnow
from storage.migrate import open_for_reading

FORMATS = ("md", "html", "json", "slack")
RELATIVE_DAYS = {"today": timedelta(0), "yesterday": timedelta(days=1)}


def add_cli(commands: Subparsers) -> None:
    parser = commands.add_parser("report", help=N_("write a day's report from the database"))
    parser.add_argument(
        "--date",
        default="today",
        type=_day,
        help=N_("the day: 2026-12-07, today (default) or yesterday, on IRIS_TIMEZONE's calendar"),
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="md", help=N_("md (default), html, json or slack")
    )
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=N_("ko or en (default: IRIS_LANG)"))
    parser.add_argument("--stage", default=None, help=N_("the header's stage (default: reports.stage)"))
    parser.add_argument(
        "--keywords", default=None, help=N_('the header\'s keywords, "a, b, c" (default: reports.keywords)')
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=N_("write it to this file instead of printing it")
    )
    parser.set_defaults(run=_run)


def _day(value: str) -> date | str:
    """A calendar day, or `today`/`yesterday`, which need the team's zone and are resolved in _run."""
    if value.lower() in RELATIVE_DAYS:
        return value.lower()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a day such as 2026-12-07, today or yesterday"
        ) from None


def _run(args: argparse.Namespace) -> int:
    config: Config = args.load_config()
    settings = config.settings
    service = _service(config)
    today = service.today()
    day = today - RELATIVE_DAYS[args.date] if isinstance(args.date, str) else args.date
    if day > today:
        raise CliError(
            N_("{day} has not begun yet in {zone}; give a day up to {today}."),
            day=day,
            zone=settings.iris_timezone,
            today=today,
        )
    if not day_in_range(day, today):
        raise CliError(N_("{day} is more than ten years ago, before IRIS could have recorded it."), day=day)
    lang = args.lang or settings.iris_lang
    try:
        stage, keywords = heading(translator("en"), args.stage, args.keywords)
    except UserError as exc:
        raise CliError(
            exc.sentence.replace("`stage=`", "--stage").replace("`keywords=`", "--keywords")
        ) from None
    byline = Byline(author=REPORTS.of(config).author, stage=stage, keywords=keywords)
    report = service.report(day, lang, byline)
    text = _form(report, args.format, lang)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(
                N_("Cannot write {path}: {reason}."), path=args.out, reason=exc.strerror or exc
            ) from None
    return 0


def _service(config: Config) -> ReportService:
    url = config.settings.iris_database_url
    engine = open_for_reading(url)
    return ReportService(
        engine, config.settings.iris_timezone, REPORTS.of(config), utcnow, lang=config.settings.iris_lang
    )


def _form(report: Report, form: str, lang: str) -> str:
    if form == "md":
        return render_markdown(report)
    if form == "html":
        return render_html(report)
    if form == "json":
        return render_json(report)
    text, blocks = render_report(translator(lang), report)
    return json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False, indent=2) + "\n"
