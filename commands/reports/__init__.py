"""The daily report: `/iris note` and `/iris report` (not available yet: issue 11 brings them).

Declared here so help, the unknown-subcommand answer, the README's command table and the `iris`
CLI already name them, from this declaration alone.
"""

from __future__ import annotations

import argparse

from bot.errors import CliError
from bot.i18n import N_
from commands.feature import Feature, Subparsers
from commands.kit import Action, Command, no_arguments


def _not_yet(*_: object) -> None:
    raise AssertionError("a command that is not available is answered by help, never run")


NOTE = Command(
    "note",
    (
        Action(
            None,
            '<goal|work|problem|next|ref> "<text>" [response="…"] [date=YYYY-MM-DD]',
            N_("Add a note to the day's report."),
            no_arguments,
            _not_yet,
        ),
    ),
    available=False,
)
REPORT = Command(
    "report",
    (Action(None, "[date] [lang=ko|en]", N_("Write the day's report."), no_arguments, _not_yet),),
    available=False,
)


def add_cli(commands: Subparsers) -> None:
    parser = commands.add_parser("report", help="write the day's report (not available yet)")
    for option in ("--date", "--format", "--lang"):
        parser.add_argument(option)
    parser.set_defaults(run=_cli_not_yet)


def _cli_not_yet(_: argparse.Namespace) -> int:
    raise CliError("'iris report' is not available yet in this version of IRIS.")


FEATURE = Feature(
    name="reports",
    commands=(NOTE, REPORT),
    cli=add_cli,
)
