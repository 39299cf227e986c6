"""Reading `/iris rehearse …`: which scenario, the two things Slack may set, and rehearsal ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from commands.kit import COMMAND, ParseContext, UsageError, quote_user_text

RUNS = re.compile(r"^runs=(\d{1,4})$", re.IGNORECASE)
REHEARSAL_ID = re.compile(r"^r-[0-9a-f]{8}$")


@dataclass(frozen=True)
class StartArgs:
    name: str
    runs: int | None = None
    dry_run: bool = False


def parse_start(context: ParseContext, rest: str) -> StartArgs:
    """`<scenario> [runs=N] [dry-run]`: everything else lives in the scenario file."""
    if not rest.split():
        raise UsageError()
    name, *options = rest.split()
    runs, dry_run = None, False
    for option in options:
        match = RUNS.match(option)
        if match and int(match.group(1)) >= 1:
            runs = int(match.group(1))
        elif option.lower() == "dry-run":
            dry_run = True
        else:
            raise UserError(
                context.t(
                    "`{option}` is not something Slack can set; only `runs=N` and `dry-run` "
                    "are (everything else lives in the scenario file).",
                    option=quote_user_text(option),
                )
            )
    return StartArgs(name, runs, dry_run)


def parse_optional_id(context: ParseContext, rest: str) -> str | None:
    words = rest.split()
    if len(words) > 1:
        raise UserError(
            context.t("Say which rehearsal: `{command} rehearse status r-1a2b3c4d`.", command=COMMAND)
        )
    return rehearsal_id(context, words[0]) if words else None


def parse_id(context: ParseContext, rest: str) -> str:
    words = rest.split()
    if len(words) != 1:
        raise UserError(
            context.t("Say which rehearsal to abort: `{command} rehearse abort r-1a2b3c4d`.", command=COMMAND)
        )
    return rehearsal_id(context, words[0])


def rehearsal_id(context: ParseContext, word: str) -> str:
    if not REHEARSAL_ID.match(word):
        raise UserError(
            context.t(
                "`{word}` is not a rehearsal id; ids look like `r-1a2b3c4d`.", word=quote_user_text(word)
            )
        )
    return word
