"""Reading `/iris note …` and `/iris report …`: a kind and its text, options, days and languages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import LANGUAGES, Translator
from bot.reports.notes import MAX_TEXT
from commands.kit import COMMAND, ParseContext, UsageError, quote_user_text
from storage.reports import KINDS, PROBLEM

OPTION = re.compile(r'(?<!\S)(?P<key>[a-z]+)=(?:"(?P<quoted>[^"]*)"|(?P<value>\S*))', re.IGNORECASE)
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
NOTE_ID = re.compile(r"^#?(\d{1,9})$")
NOTES_AHEAD = timedelta(days=31)  # a note may be written for a coming day's report, not for next year's


@dataclass(frozen=True)
class NoteArgs:
    kind: str
    text: str
    day: date
    response: str | None = None


MAX_STAGE, MAX_KEYWORDS, MAX_KEYWORD = 200, 10, 60  # the header's lines; they also ride on the buttons


@dataclass(frozen=True)
class ReportArgs:
    day: date
    lang: str | None = None
    stage: str | None = None  # given on the command: wins over iris.yml's reports.stage
    keywords: tuple[str, ...] = ()


def today(context: ParseContext) -> date:
    """The team's date now."""
    return context.now.astimezone(ZoneInfo(context.zone)).date()


def parse_note(context: ParseContext, rest: str) -> NoteArgs:
    """`<kind> "<text>" [response="…"] [date=YYYY-MM-DD]`; the quotes are optional."""
    t, text = context.t, rest.translate(SMART_QUOTES)
    kind, _, tail = text.strip().partition(" ")
    if not kind:
        raise UsageError()
    if kind.lower() not in KINDS:
        raise UserError(
            t(
                "`{kind}` is not a kind of note; kinds are goal, work, problem, next and ref, as in "
                '`{command} note problem "APM index saturated in QA" response="retention cut to 7 days"`.',
                kind=quote_user_text(kind),
                command=COMMAND,
            )
        )
    options = _options(context, tail, allowed=("response", "date"))
    body = OPTION.sub("", tail).strip()
    if len(body) >= 2 and body[0] == body[-1] == '"':
        body = body[1:-1].strip()
    if not body:
        raise UserError(
            t('Write the note after its kind: `{command} note work "Rehearsed v1.2 in QA"`.', command=COMMAND)
        )
    response = options.get("response")
    if response is not None and kind.lower() != PROBLEM:
        raise UserError(t("`response=` goes with a `problem` note."))
    for value in (body, response or ""):
        if len(value) > MAX_TEXT:
            raise UserError(t("A note has at most {limit} characters.", limit=MAX_TEXT))
    day = parse_day(context, options["date"]) if "date" in options else today(context)
    if day > today(context) + NOTES_AHEAD:
        raise UserError(t("A note belongs to a day at most a month ahead; `date=` is too far."))
    return NoteArgs(kind.lower(), body, day, response.strip() if response else None)


def parse_optional_day(context: ParseContext, rest: str) -> date:
    words = rest.split()
    if len(words) > 1:
        raise UsageError()
    return parse_day(context, words[0]) if words else today(context)


def parse_note_id(context: ParseContext, rest: str) -> int:
    words = rest.split()
    match = NOTE_ID.match(words[0]) if len(words) == 1 else None
    if match is None:
        raise UserError(
            context.t(
                "Say which note: `{command} note delete 12` (ids are in `{command} note list`).",
                command=COMMAND,
            )
        )
    return int(match.group(1))


def parse_report(context: ParseContext, rest: str) -> ReportArgs:
    """`[date] [lang=ko|en] [stage="…"] [keywords="a, b"]`: a day that has begun, today by default."""
    options = _options(context, rest, allowed=("lang", "stage", "keywords"))
    words = OPTION.sub("", rest).split()
    if len(words) > 1:
        raise UsageError()
    day = parse_day(context, words[0]) if words else today(context)
    if day > today(context):
        raise UserError(
            context.t(
                "A report is of a day that has begun; `{day}` has not. Try `{command} report {today}`.",
                day=day.isoformat(),
                command=COMMAND,
                today=today(context).isoformat(),
            )
        )
    lang = options.get("lang")
    if lang is not None and lang.lower() not in LANGUAGES:
        raise UserError(context.t("`lang=` is `ko` or `en`."))
    stage, keywords = heading(context.t, options.get("stage"), options.get("keywords"))
    return ReportArgs(day, lang.lower() if lang else None, stage, keywords)


def heading(t: Translator, stage: str | None, keywords: str | None) -> tuple[str | None, tuple[str, ...]]:
    """`stage=` and `keywords=` (comma-separated) for the report's header, within their limits."""
    stage = " ".join((stage or "").split()) or None
    if stage is not None and len(stage) > MAX_STAGE:
        raise UserError(t("`stage=` has at most {limit} characters.", limit=MAX_STAGE))
    words = tuple(w for w in (" ".join(k.split()) for k in (keywords or "").split(",")) if w)
    if len(words) > MAX_KEYWORDS or any(len(w) > MAX_KEYWORD for w in words):
        raise UserError(
            t(
                "`keywords=` is at most {count} keywords of {limit} characters, separated by commas.",
                count=MAX_KEYWORDS,
                limit=MAX_KEYWORD,
            )
        )
    return stage, words


def parse_day(context: ParseContext, word: str) -> date:
    """`2024-12-12`, `today` or `yesterday`, on the team's calendar."""
    lowered = word.lower()
    if lowered in ("today", "yesterday"):
        return today(context) - timedelta(days=1 if lowered == "yesterday" else 0)
    match = DAY.match(word)
    try:
        if match is None:
            raise ValueError(word)
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise UserError(
            context.t(
                "`{word}` is not a day; write it as `{today}`, `today` or `yesterday`.",
                word=quote_user_text(word),
                today=today(context).isoformat(),
            )
        ) from None
    if day.year < 2000:
        raise UserError(context.t("IRIS has nothing recorded before the year 2000."))
    return day


def _options(context: ParseContext, text: str, allowed: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in OPTION.finditer(text):
        key = match.group("key").lower()
        if key not in allowed:
            raise UserError(
                context.t(
                    "`{key}=` is not an option here; options are {allowed}.",
                    key=quote_user_text(key),
                    allowed=", ".join(f"`{name}=`" for name in allowed),
                )
            )
        if key in found:
            raise UserError(context.t("`{key}=` is given twice.", key=quote_user_text(key)))
        quoted = match.group("quoted")
        found[key] = quoted if quoted is not None else match.group("value")
    return found
