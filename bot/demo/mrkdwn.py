"""Slack's text formats as safe HTML for the playground page: mrkdwn and rich_text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

# Slack escapes a literal "<" as "&lt;", so a raw angle-bracket pair is always one of its sequences.
_ANGLE = re.compile(r"<([^<>\n]*)>")
_ANY_LINK = re.compile(r"(?i)(?:https?://|mailto:)")
_WEB_LINK = re.compile(r"(?i)https?://")
# Finished HTML waits in a slot while the escaped text around it is formatted; NUL never survives input.
_SLOT = "\x00"
_SLOT_REF = re.compile(r"\x00(\d+)\x00")
_PRE = re.compile(r"```\n?(.+?)\n?```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_EMPHASIS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "b"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
    (re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"), "i"),
)
_EMPHASIS_TAG = re.compile(r"<(/?)([bis])>")
_QUOTE = "&gt;"
_LONG_QUOTE = "&gt;&gt;&gt;"
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
# The shortcodes IRIS writes and a few common ones; others stay as typed, as Slack shows unknown ones.
EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "fire": "🔥",
    "repeat": "🔁",
    "mute": "🔇",
    "loud_sound": "🔊",
    "heavy_plus_sign": "➕",
    "eyes": "👀",
    "fast_forward": "⏩",
    "hourglass": "⌛",
    "bell": "🔔",
    "memo": "📝",
    "calendar": "📆",
    "tada": "🎉",
}
_BROADCASTS = frozenset({"here", "channel", "everyone"})
_DATE_TOKEN = re.compile(r"\{(\w+)\}")
_EPOCH = re.compile(r"-?\d{1,12}")
_RICH_CONTAINERS = {
    "rich_text_section": "div",
    "rich_text_preformatted": "pre",
    "rich_text_quote": "blockquote",
}
_RICH_STYLES = (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s"))
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_AGO_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


@dataclass(frozen=True)
class Viewer:
    """Who reads the page: their time zone and the names Slack would show for ids."""

    tz: ZoneInfo
    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


def str_of(obj: Any, key: str) -> str:
    """A string field of a JSON object, "" when the object or the field is something else."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else ""


def dicts_of(value: Any) -> list[Mapping[str, Any]]:
    """The objects in a JSON list, skipping anything else."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list | tuple) else []


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def slack_unescape(text: str) -> str:
    """Undo the three escapes Slack applies to message text ("&amp;" last, so "&amp;lt;" stays "&lt;")."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def safe_href(url: str, *, web_only: bool = False) -> str | None:
    """The URL when its scheme may be followed from the page; anything else (javascript:, data:) is None."""
    return url if (_WEB_LINK if web_only else _ANY_LINK).match(url) else None


def _link_html(href: str, label_html: str) -> str:
    return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{label_html}</a>'


def _mention_html(label: str) -> str:
    return f'<span class="bk-mention">{esc(label)}</span>'


def _user_label(user_id: str, label: str, viewer: Viewer) -> str:
    return "@" + (viewer.users.get(user_id) or label or user_id)


def _channel_label(channel_id: str, label: str, viewer: Viewer) -> str:
    return "#" + (viewer.channels.get(channel_id) or label or channel_id)


def plain_to_html(text: str) -> Markup:
    return Markup(esc(text).replace("\r\n", "\n").replace("\n", "<br>"))


def mrkdwn_to_html(text: str, viewer: Viewer) -> Markup:
    slots: list[str] = []

    def keep(piece: str) -> str:
        slots.append(piece)
        return f"{_SLOT}{len(slots) - 1}{_SLOT}"

    def fill(escaped: str) -> str:
        return _SLOT_REF.sub(lambda ref: fill(slots[int(ref[1])]), escaped)

    raw = text.replace(_SLOT, "\ufffd").replace("\r\n", "\n")
    escaped = _tokenise(raw, viewer, keep)
    escaped = _PRE.sub(lambda m: keep(f"<pre>{m[1]}</pre>"), escaped)
    escaped = _CODE.sub(lambda m: keep(f"<code>{m[1]}</code>"), escaped)
    escaped = _SHORTCODE.sub(lambda m: EMOJI.get(m[1], m[0]), escaped)
    return Markup(fill(_lines_to_html(escaped)))


def _text(raw: str) -> str:
    return esc(slack_unescape(raw))


def _tokenise(raw: str, viewer: Viewer, keep: Callable[[str], str]) -> str:
    """The text escaped, each of Slack's angle-bracket sequences already rendered into a slot."""
    out: list[str] = []
    position = 0
    for match in _ANGLE.finditer(raw):
        piece = _special(match[1], viewer)
        out += [_text(raw[position : match.start()]), _text(match[0]) if piece is None else keep(piece)]
        position = match.end()
    out.append(_text(raw[position:]))
    return "".join(out)


def _special(body: str, viewer: Viewer) -> str | None:
    target, _, raw_label = body.partition("|")
    label = slack_unescape(raw_label)
    if target.startswith("@"):
        return _mention_html(_user_label(target[1:], label, viewer))
    if target.startswith("#"):
        return _mention_html(_channel_label(target[1:], label, viewer))
    if target.startswith("!"):
        return _command(target[1:], label, viewer)
    href = safe_href(slack_unescape(target))
    return None if href is None else _link_html(href, esc(label or href))


def _command(command: str, label: str, viewer: Viewer) -> str | None:
    if command in _BROADCASTS:
        return _mention_html("@" + command)
    if command.startswith("subteam^"):
        return _mention_html(label or "@" + command.removeprefix("subteam^"))
    if command.startswith("date^"):
        _, epoch, fmt, link = [*command.split("^", 3), "", ""][:4]
        return _date_html(epoch, slack_unescape(fmt), slack_unescape(link), label, viewer)
    return None


def _date_html(epoch: str, fmt: str, link: str, fallback: str, viewer: Viewer) -> str | None:
    """A <time> in the viewer's zone; the fallback (None without one) when the moment cannot be read."""
    moment = _moment(epoch) if fmt else None
    if moment is None:
        return esc(fallback) if fallback else None
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = f'<time datetime="{stamp}">{esc(format_date(moment, fmt, viewer.tz))}</time>'
    href = safe_href(link, web_only=True)
    return shown if href is None else _link_html(href, shown)


def _moment(epoch: str) -> datetime | None:
    if not _EPOCH.fullmatch(epoch):
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def format_date(moment: datetime, fmt: str, tz: ZoneInfo) -> str:
    """Slack's {date}-style tokens filled in for the zone; an unknown token stays as written."""
    local, now = moment.astimezone(tz), datetime.now(UTC).astimezone(tz)

    def token(match: re.Match[str]) -> str:
        render = _DATE_WORDS.get(match[1])
        return match[0] if render is None else render(local, now)

    return _DATE_TOKEN.sub(token, fmt)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date(local: datetime) -> str:
    return f"{_MONTHS[local.month - 1]} {_ordinal(local.day)}, {local.year}"


def _date_short(local: datetime) -> str:
    return f"{_MONTHS[local.month - 1][:3]} {local.day}, {local.year}"


def _date_long(local: datetime) -> str:
    return f"{_WEEKDAYS[local.weekday()]}, {_date(local)}"


def _clock(local: datetime, seconds: bool) -> str:
    shown = f"{local.hour % 12 or 12}:{local.minute:02d}" + (f":{local.second:02d}" if seconds else "")
    return f"{shown} {'AM' if local.hour < 12 else 'PM'}"


def _pretty(plain: Callable[[datetime], str], local: datetime, now: datetime) -> str:
    days = (local.date() - now.date()).days
    return {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days) or plain(local)


def _ago(local: datetime, now: datetime) -> str:
    seconds = int((now - local).total_seconds())
    for unit, size in _AGO_UNITS:
        count = abs(seconds) // size
        if count:
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{amount} ago" if seconds > 0 else f"in {amount}"
    return "just now"


_DATE_WORDS: dict[str, Callable[[datetime, datetime], str]] = {
    "date_num": lambda local, _: local.strftime("%Y-%m-%d"),
    "date": lambda local, _: _date(local),
    "date_short": lambda local, _: _date_short(local),
    "date_long": lambda local, _: _date_long(local),
    "date_pretty": partial(_pretty, _date),
    "date_short_pretty": partial(_pretty, _date_short),
    "date_long_pretty": partial(_pretty, _date_long),
    "time": lambda local, _: _clock(local, seconds=False),
    "time_secs": lambda local, _: _clock(local, seconds=True),
    "ago": _ago,
}


def _lines_to_html(escaped: str) -> str:
    """Lines with emphasis, "> " runs as one <blockquote>, the rest joined by <br>."""
    rows: list[str] = []
    for quoted, group in groupby(_long_quote(escaped.split("\n")), key=lambda line: line.startswith(_QUOTE)):
        lines = [_emphasis(line[len(_QUOTE) :].removeprefix(" ") if quoted else line) for line in group]
        rows.append(f"<blockquote>{'<br>'.join(lines)}</blockquote>" if quoted else "<br>".join(lines))
    # Only the renderer writes "<" into this text, so these replacements cannot touch user text.
    joined = "<br>".join(rows)
    return joined.replace("<br><blockquote>", "<blockquote>").replace("</blockquote><br>", "</blockquote>")


def _long_quote(lines: list[str]) -> list[str]:
    """A line starting ">>>" quotes the rest of the message: it and every line after become "> " lines."""
    for index, line in enumerate(lines):
        if line.startswith(_LONG_QUOTE):
            rest = [line[len(_LONG_QUOTE) :].removeprefix(" "), *lines[index + 1 :]]
            return lines[:index] + [f"{_QUOTE} {row}" for row in rest]
    return lines


def _emphasis(line: str) -> str:
    for pattern, tag in _EMPHASIS:
        line = pattern.sub(partial(_wrap, tag), line)
    return line


def _wrap(tag: str, match: re.Match[str]) -> str:
    # "*a _b* c_" would nest <i> across </b>; such a span is left as typed rather than mis-nested.
    return f"<{tag}>{match[1]}</{tag}>" if _balanced(match[1]) else match[0]


def _balanced(fragment: str) -> bool:
    open_tags: list[str] = []
    for match in _EMPHASIS_TAG.finditer(fragment):
        if not match[1]:
            open_tags.append(match[2])
        elif not open_tags or open_tags.pop() != match[2]:
            return False
    return not open_tags


def rich_text_to_html(elements: Any, viewer: Viewer) -> str:
    """A rich_text block's elements: sections, lists, preformatted and quotes, with styled runs."""
    return "".join(_rich_part(part, viewer) for part in dicts_of(elements))


def _rich_part(part: Mapping[str, Any], viewer: Viewer) -> str:
    if part.get("type") == "rich_text_list":
        tag = "ol" if part.get("style") == "ordered" else "ul"
        items = "".join(f"<li>{_rich_runs(item, viewer)}</li>" for item in dicts_of(part.get("elements")))
        return f"<{tag}>{items}</{tag}>"
    tag = _RICH_CONTAINERS.get(str_of(part, "type"), "div")
    return f"<{tag}>{_rich_runs(part, viewer)}</{tag}>"


def _rich_runs(part: Mapping[str, Any], viewer: Viewer) -> str:
    return "".join(_rich_run(run, viewer) for run in dicts_of(part.get("elements")))


def _rich_run(run: Mapping[str, Any], viewer: Viewer) -> str:
    kind = str_of(run, "type")
    if kind == "link":
        href, label = safe_href(str_of(run, "url")), esc(str_of(run, "text") or str_of(run, "url"))
        return label if href is None else _link_html(href, label)
    if kind in ("user", "channel", "usergroup", "broadcast"):
        return _mention_html(_rich_mention(run, kind, viewer))
    if kind == "emoji":
        return esc(f":{str_of(run, 'name')}:")
    if kind == "date":
        epoch, fallback = str(run.get("timestamp")), str_of(run, "fallback")
        return _date_html(epoch, str_of(run, "format"), str_of(run, "url"), fallback, viewer) or ""
    shown = esc(str_of(run, "text")).replace("\n", "<br>")
    style = run.get("style")
    for key, tag in _RICH_STYLES:
        if isinstance(style, Mapping) and style.get(key) is True:
            shown = f"<{tag}>{shown}</{tag}>"
    return shown


def _rich_mention(run: Mapping[str, Any], kind: str, viewer: Viewer) -> str:
    if kind == "user":
        return _user_label(str_of(run, "user_id"), "", viewer)
    if kind == "channel":
        return _channel_label(str_of(run, "channel_id"), "", viewer)
    return "@" + (str_of(run, "usergroup_id") if kind == "usergroup" else str_of(run, "range"))
