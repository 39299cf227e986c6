"""Reading `/iris rehearse …`: which action, which scenario, and the two things Slack may set."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from bot.i18n import Translator
from commands.kit import COMMAND, quote_user_text

RUNS = re.compile(r"^runs=(\d{1,4})$", re.IGNORECASE)
REHEARSAL_ID = re.compile(r"^r-[0-9a-f]{8}$")


@dataclass(frozen=True)
class RehearseArgs:
    action: str  # list | status | abort | start
    name: str | None = None
    runs: int | None = None
    dry_run: bool = False
    rehearsal_id: str | None = None


def parse_rehearse_args(t: Translator, rest: str) -> RehearseArgs:
    words = rest.split()
    if not words:
        raise UserError(usage(t))
    first = words[0].lower()
    if first == "list" and len(words) == 1:
        return RehearseArgs("list")
    if first == "status" and len(words) <= 2:
        return RehearseArgs("status", rehearsal_id=_rehearsal_id(t, words[1]) if len(words) == 2 else None)
    if first == "abort":
        if len(words) != 2:
            raise UserError(
                t("Say which rehearsal to abort: `{command} rehearse abort r-1a2b3c4d`.", command=COMMAND)
            )
        return RehearseArgs("abort", rehearsal_id=_rehearsal_id(t, words[1]))
    return _start_args(t, words)


def _start_args(t: Translator, words: list[str]) -> RehearseArgs:
    runs, dry_run = None, False
    for option in words[1:]:
        match = RUNS.match(option)
        if match and int(match.group(1)) >= 1:
            runs = int(match.group(1))
        elif option.lower() == "dry-run":
            dry_run = True
        else:
            raise UserError(
                t(
                    "`{option}` is not something Slack can set; only `runs=N` and `dry-run` "
                    "are (everything else lives in the scenario file).",
                    option=quote_user_text(option),
                )
            )
    return RehearseArgs("start", name=words[0], runs=runs, dry_run=dry_run)


def _rehearsal_id(t: Translator, word: str) -> str:
    if not REHEARSAL_ID.match(word):
        raise UserError(
            t("`{word}` is not a rehearsal id; ids look like `r-1a2b3c4d`.", word=quote_user_text(word))
        )
    return word


def usage(t: Translator) -> str:
    return t(
        "Usage: `{command} rehearse <scenario> [runs=N] [dry-run]`, `{command} rehearse list`, "
        "`{command} rehearse status [id]`, `{command} rehearse abort <id>`.",
        command=COMMAND,
    )
