"""Reading `/iris checklist …` and the values IRIS put on its own buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from commands.kit import COMMAND, ParseContext, UsageError, quote_user_text

TEMPLATE_REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}(@[0-9A-Za-z][0-9A-Za-z._-]{0,31})?$")
VERSION_REF = re.compile(r"^v?[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
CHECKLIST_ID = re.compile(r"^#?(\d{1,9})$")
BUTTON_VALUE = re.compile(r"^(\d{1,9}):(\d{1,4})$")
CLICK_VALUE = re.compile(r"^(\d{1,9}):(\d{1,4})(?::(\d{1,12}))?$")
MAX_RELEASE = 120


@dataclass(frozen=True)
class StartArgs:
    template: str
    release: str = ""


@dataclass(frozen=True)
class DiffArgs:
    template: str  # the name, without a version
    versions: tuple[str | None, str | None] = (None, None)


def parse_start(context: ParseContext, rest: str) -> StartArgs:
    """`<template>[@version] [release]`."""
    words = rest.split()
    if not words:
        raise UsageError()
    release = " ".join(words[1:])
    if len(release) > MAX_RELEASE:
        raise UserError(context.t("A release name has at most {limit} characters.", limit=MAX_RELEASE))
    return StartArgs(_template(context, words[0]), release)


def parse_diff(context: ParseContext, rest: str) -> DiffArgs:
    """`<template> [from] [to]`."""
    words = rest.split()
    if not 1 <= len(words) <= 3:
        raise UsageError()
    template = _template(context, words[0]).partition("@")[0]
    versions = [_version(context, word) for word in words[1:]] + [None, None]
    return DiffArgs(template, (versions[0], versions[1]))


def parse_checklist_id(context: ParseContext, rest: str) -> int:
    words = rest.split()
    if len(words) != 1:
        raise UsageError()
    match = CHECKLIST_ID.match(words[0])
    if match is None:
        raise UserError(
            context.t(
                "`{word}` is not a checklist id; ids are numbers, as in `{command} checklist show 7`.",
                word=quote_user_text(words[0]),
                command=COMMAND,
            )
        )
    return int(match.group(1))


def _template(context: ParseContext, word: str) -> str:
    if not TEMPLATE_REF.match(word):
        raise UserError(
            context.t(
                "`{word}` is not a template name; names look like `automation-patch` or "
                "`automation-patch@1.1`.",
                word=quote_user_text(word),
            )
        )
    return word


def _version(context: ParseContext, word: str) -> str:
    if not VERSION_REF.match(word):
        raise UserError(context.t("`{word}` is not a version such as `1.2`.", word=quote_user_text(word)))
    return word


def parse_button_value(value: object) -> tuple[int, int] | None:
    """`"7:3"` → (checklist 7, item or page 3); None for anything IRIS did not put on a button."""
    match = BUTTON_VALUE.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def form_origin(channel_id: str | None, message_ts: str | None) -> str:
    """The channel and message a form was opened from, as its private_metadata carries them."""
    return f"{channel_id or '-'} {message_ts or '-'}"


def parse_form_metadata(value: object) -> tuple[tuple[int, int], str | None, str | None] | None:
    """`"7:3 C0OPS 1700000000.000100"` → ((checklist 7, item 3), channel, message); None if not IRIS's."""
    parts = value.split(" ") if isinstance(value, str) else []
    target = parse_button_value(parts[0]) if len(parts) == 3 else None
    if target is None:
        return None
    channel, message = (None if part == "-" else part for part in parts[1:])
    return target, channel, message


def parse_click_value(value: object) -> tuple[int, int, int | None] | None:
    """`"7:3:41"` → (checklist 7, item 3, the sign-off an Undo is for); `"7:3"` names none."""
    match = CLICK_VALUE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)) if match.group(3) else None
