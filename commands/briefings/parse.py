"""Reading `/iris brief …`: a quoted title, `<when>` and `key=value` options, and briefing ids."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.briefings.service import WrapUp
from bot.briefings.when import parse_leads, parse_when
from bot.errors import UserError
from bot.i18n import Translator
from commands.kit import COMMAND, ParseContext, quote_user_text

TOKEN = re.compile(
    r'(?P<key>[a-z]+)=(?:"(?P<quoted>[^"]*)"|(?P<value>\S*))|"(?P<title>[^"]*)"|(?P<word>\S+)', re.IGNORECASE
)
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
# Slack's ids are about eleven characters; 32 is what IRIS stores (a longer one is not Slack's).
USER = re.compile(r"^<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,31})$")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,31})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,31})$")
URL = re.compile(r"^<?(https?://[^\s|<>]+)(?:\|[^<>]*)?>?$")  # posted as is: no `<` may open a mention
BRIEFING_ID = re.compile(r"^#?(\d{1,9})$")
MAX_TITLE, MAX_TEXT, MAX_ATTENDEES, MAX_URL, MAX_CRON = 200, 2000, 50, 500, 100
ADD_OPTIONS = frozenset({"remind", "channel", "agenda", "attendees", "kind", "cron"})
DONE_OPTIONS = frozenset({"recording", "notes"})


@dataclass(frozen=True)
class Tokens:
    title: str | None
    when: str
    options: dict[str, str]


@dataclass(frozen=True)
class EditArgs:
    briefing_id: int
    changes: dict[str, Any] = field(default_factory=dict)  # Draft fields given


@dataclass(frozen=True)
class DoneArgs:
    briefing_id: int
    wrap_up: WrapUp = field(default_factory=WrapUp)


def parse_add(context: ParseContext, rest: str) -> dict[str, Any]:
    """`"<title>" <when> [options]` → the Draft fields given."""
    return _add(context.t, tokenize(context.t, rest), context.zone, context.now)


def parse_edit(context: ParseContext, rest: str) -> EditArgs:
    briefing_id, tail = _leading_id(context.t, "edit", rest)
    return EditArgs(briefing_id, _edit(context.t, tokenize(context.t, tail), context.zone, context.now))


def parse_cancel(context: ParseContext, rest: str) -> int:
    briefing_id, tail = _leading_id(context.t, "cancel", rest)
    if tail.strip():
        raise UserError(
            context.t(
                "`{command} brief cancel` takes only the id, e.g. `{command} brief cancel 12`.",
                command=COMMAND,
            )
        )
    return briefing_id


def parse_done(context: ParseContext, rest: str) -> DoneArgs:
    briefing_id, tail = _leading_id(context.t, "done", rest)
    return _done(context.t, briefing_id, tokenize(context.t, tail))


def tokenize(t: Translator, text: str) -> Tokens:
    title: str | None = None
    when: list[str] = []
    options: dict[str, str] = {}
    for match in TOKEN.finditer(text.translate(SMART_QUOTES)):
        if match.group("key"):
            key = match.group("key").lower()
            if key in options:
                raise UserError(t("`{key}=` is given twice.", key=quote_user_text(key)))
            quoted = match.group("quoted")
            options[key] = quoted if quoted is not None else match.group("value")
        elif match.group("title") is not None and title is None and not when:
            title = match.group("title").strip()
        elif match.group("title") is not None:
            raise UserError(t('Only the title is quoted before the time; put other text in `agenda="…"`.'))
        else:
            when.append(match.group("word"))
    return Tokens(title, " ".join(when), options)


def _add(t: Translator, tokens: Tokens, zone: str, now: datetime) -> dict[str, Any]:
    if not tokens.title:
        raise UserError(t("Start with the title in quotes: {example}.", example=EXAMPLE))
    changes = _options(t, tokens.options, ADD_OPTIONS, zone, now)
    changes["title"] = _title(t, tokens.title)
    changes["schedule"] = parse_when(t, tokens.when, zone, now, cron=_cron(t, tokens.options))
    return changes


def _cron(t: Translator, options: dict[str, str]) -> str | None:
    cron = options.get("cron")
    if cron is not None and len(cron) > MAX_CRON:
        raise UserError(t("`cron=` has at most {limit} characters.", limit=MAX_CRON))
    return cron


def _edit(t: Translator, tokens: Tokens, zone: str, now: datetime) -> dict[str, Any]:
    changes = _options(t, tokens.options, ADD_OPTIONS, zone, now)
    if tokens.title is not None:
        changes["title"] = _title(t, tokens.title)
    if tokens.when or "cron" in tokens.options:
        changes["schedule"] = parse_when(t, tokens.when, zone, now, cron=_cron(t, tokens.options))
    if not changes:
        raise UserError(
            t(
                "Say what to change, e.g. `{command} brief edit 12 tomorrow 16:00 remind=10m`.",
                command=COMMAND,
            )
        )
    return changes


def _done(t: Translator, briefing_id: int, tokens: Tokens) -> DoneArgs:
    if tokens.title is not None or tokens.when:
        raise UserError(
            t('`{command} brief done` takes `recording=<url>` and `notes="…"` after the id.', command=COMMAND)
        )
    unknown = set(tokens.options) - DONE_OPTIONS
    if unknown:
        raise UserError(
            t(
                "`{key}=` is not an option of `done`; use `recording=` and `notes=`.",
                key=quote_user_text(sorted(unknown)[0]),
            )
        )
    recording = tokens.options.get("recording")
    if recording is not None:
        match = URL.match(recording)
        if not match or len(match.group(1)) > MAX_URL:
            raise UserError(t("`recording=` must be an http(s) link of at most 500 characters."))
        recording = match.group(1)
    notes = _text(t, "notes", tokens.options.get("notes", ""))
    return DoneArgs(briefing_id, WrapUp(recording, notes))


def _options(
    t: Translator, options: dict[str, str], allowed: frozenset[str], zone: str, now: datetime
) -> dict[str, Any]:
    unknown = set(options) - allowed
    if unknown:
        raise UserError(
            t(
                "`{key}=` is not an option here; options are remind=, channel=, agenda=, "
                "attendees=, kind= and cron=.",
                key=quote_user_text(sorted(unknown)[0]),
            )
        )
    changes: dict[str, Any] = {}
    if "remind" in options:
        changes["leads"] = parse_leads(t, options["remind"])
    if "channel" in options:
        changes["channel_id"] = _channel(t, options["channel"])
    if "agenda" in options:
        changes["agenda"] = _text(t, "agenda", options["agenda"])
    if "attendees" in options:
        changes["attendees"] = _attendees(t, options["attendees"])
    if "kind" in options:
        if options["kind"].lower() not in ("briefing", "milestone"):
            raise UserError(t("`kind=` is `briefing` or `milestone`."))
        changes["kind"] = options["kind"].lower()
    return changes


def _leading_id(t: Translator, action: str, tail: str) -> tuple[int, str]:
    words = tail.split(maxsplit=1)
    match = BRIEFING_ID.match(words[0]) if words else None
    if not match:
        raise UserError(
            t(
                "Say which briefing: `{command} brief {action} 12` (ids are in `{command} brief list`).",
                command=COMMAND,
                action=action,
            )
        )
    return int(match.group(1)), words[1] if len(words) > 1 else ""


def _title(t: Translator, title: str) -> str:
    if not title or len(title) > MAX_TITLE:
        raise UserError(t("The title must have 1 to 200 characters."))
    return title


def _text(t: Translator, name: str, text: str) -> str:
    if len(text) > MAX_TEXT:
        raise UserError(t("`{name}=` is limited to 2000 characters.", name=name))
    return text.strip()


def _channel(t: Translator, text: str) -> str:
    match = CHANNEL.match(text)
    if not match:
        raise UserError(
            t(
                "`channel=` needs a channel picked from Slack's autocomplete, such as `#ops`; "
                "`{text}` is not one.",
                text=quote_user_text(text),
            )
        )
    return match.group(1) or match.group(2)


def _attendees(t: Translator, text: str) -> tuple[str, ...]:
    found: list[str] = []
    for part in filter(None, text.split(",")):
        match = USER.match(part.strip())
        if not match:
            raise UserError(
                t(
                    "`attendees=` lists people picked from Slack's autocomplete, such as "
                    "`@kim,@lee`; `{text}` is not one.",
                    text=quote_user_text(part),
                )
            )
        user = match.group(1) or match.group(2)
        if user not in found:
            found.append(user)
    if len(found) > MAX_ATTENDEES:
        raise UserError(t("At most {limit} attendees can be listed.", limit=MAX_ATTENDEES))
    return tuple(found)


EXAMPLE = '`/iris brief add "Cross-team briefing" today 16:00 remind=30m,5m`'
