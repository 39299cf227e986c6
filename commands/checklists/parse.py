"""Reading `/iris checklist …` and the values IRIS put on its own buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from bot.i18n import Translator
from commands.kit import COMMAND, quote_user_text

TEMPLATE_REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}(@[0-9A-Za-z][0-9A-Za-z._-]{0,31})?$")
VERSION_REF = re.compile(r"^v?[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
CHECKLIST_ID = re.compile(r"^#?(\d{1,9})$")
BUTTON_VALUE = re.compile(r"^(\d{1,9}):(\d{1,4})$")
CLICK_VALUE = re.compile(r"^(\d{1,9}):(\d{1,4})(?::(\d{1,12}))?$")
MAX_RELEASE = 120


@dataclass(frozen=True)
class ChecklistArgs:
    action: str  # open | templates | start | show | diff | export
    template: str | None = None
    release: str = ""
    checklist_id: int | None = None
    versions: tuple[str, ...] = ()


def parse_checklist_args(t: Translator, rest: str) -> ChecklistArgs:
    words = rest.split()
    if not words:
        return ChecklistArgs("open")
    first, tail = words[0].lower(), words[1:]
    if first == "templates" and not tail:
        return ChecklistArgs("templates")
    if first == "start" and tail:
        return _start(t, tail[0], " ".join(tail[1:]))
    if first in ("show", "export") and len(tail) == 1:
        return ChecklistArgs(first, checklist_id=_checklist_id(t, tail[0]))
    if first == "diff" and 1 <= len(tail) <= 3:
        return ChecklistArgs("diff", template=_template(t, tail[0]), versions=_versions(t, tail[1:]))
    raise UserError(usage(t))


def _start(t: Translator, template: str, release: str) -> ChecklistArgs:
    if len(release) > MAX_RELEASE:
        raise UserError(t("A release name has at most {limit} characters.", limit=MAX_RELEASE))
    return ChecklistArgs("start", template=_template(t, template), release=release)


def _template(t: Translator, word: str) -> str:
    if not TEMPLATE_REF.match(word):
        raise UserError(
            t(
                "`{word}` is not a template name; names look like `automation-patch` or "
                "`automation-patch@1.1`.",
                word=quote_user_text(word),
            )
        )
    return word


def _versions(t: Translator, words: list[str]) -> tuple[str, ...]:
    for word in words:
        if not VERSION_REF.match(word):
            raise UserError(t("`{word}` is not a version such as `1.2`.", word=quote_user_text(word)))
    return tuple(words)


def _checklist_id(t: Translator, word: str) -> int:
    match = CHECKLIST_ID.match(word)
    if match is None:
        raise UserError(
            t(
                "`{word}` is not a checklist id; ids are numbers, as in `{command} checklist show 7`.",
                word=quote_user_text(word),
                command=COMMAND,
            )
        )
    return int(match.group(1))


def parse_button_value(value: object) -> tuple[int, int] | None:
    """`"7:3"` → (checklist 7, item or page 3); None for anything IRIS did not put on a button."""
    match = BUTTON_VALUE.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_click_value(value: object) -> tuple[int, int, int | None] | None:
    """`"7:3:41"` → (checklist 7, item 3, the sign-off an Undo is for); `"7:3"` names none."""
    match = CLICK_VALUE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)) if match.group(3) else None


def usage(t: Translator) -> str:
    return t(
        "Usage: `{command} checklist` (open checklists here), `{command} checklist templates`, "
        "`{command} checklist start <template>[@version] [release]`, `{command} checklist show <id>`, "
        "`{command} checklist diff <template> [from] [to]`, `{command} checklist export <id>`.",
        command=COMMAND,
    )
