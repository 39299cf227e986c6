"""Block Kit for alert groups: the living message, the thread replies, the full list as a file."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import Translator
from commands.kit import escape_mrkdwn
from storage.alerts import FIRING, MAX_STORED_ALERTS, Alert, AlertEvent, AlertGroup
from storage.clock import as_utc

ACK_ACTION = "alert_ack"
SILENCE_ACTION = "alert_silence_{hours}"
SILENCE_PATTERN = re.compile(r"^alert_silence_(1|4|24)$")
UNSILENCE_ACTION = "alert_unsilence"
MAX_SHOWN = 10  # alerts drawn on the message; the rest are counted, and listed in the thread's file
MAX_FIELD = 400  # characters of one summary or description on the message
MAX_REPLY_LINES = 20
Rendered = tuple[str, list[dict[str, Any]]]


def safe_url(url: str) -> str | None:
    """An http(s) URL made unable to close Slack's `<url|text>` link early; anything else is dropped."""
    if not re.match(r"^https?://", url) or len(url) > 2000:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link(url: str, label: str) -> str:
    safe = safe_url(url)
    return f"<{safe}|{label}>" if safe else ""


def clock_time(moment: datetime | None, tz: ZoneInfo, now: datetime) -> str:
    if moment is None:
        return "?"
    local, today = as_utc(moment).astimezone(tz), now.astimezone(tz)  # type: ignore[union-attr]
    return local.strftime("%H:%M") if local.date() == today.date() else local.strftime("%m-%d %H:%M")


def labels_line(labels: dict[str, str]) -> str:
    return " ".join(
        f"`{escape_mrkdwn(k)}={escape_mrkdwn(v)[:100]}`".replace("``", "") for k, v in labels.items()
    )


def group_title(group: AlertGroup) -> str:
    labels: dict[str, str] = {**json.loads(group.common_labels), **json.loads(group.group_labels)}
    return escape_mrkdwn(labels.get("alertname") or group.receiver or group.source)[:150]


def render_group(
    t: Translator,
    group: AlertGroup,
    alerts: list[Alert],
    tz: ZoneInfo,
    now: datetime,
    *,
    silences: bool = True,
) -> Rendered:
    """The group's one message; `silences`: IRIS can reach an Alertmanager, so it offers Silence buttons."""
    firing, resolved = alert_counts(group, alerts)
    common = json.loads(group.common_labels)
    severity = escape_mrkdwn(common.get("severity", ""))[:40]
    state = t("FIRING") if group.status == FIRING else t("RESOLVED")
    icon = ":red_circle:" if group.status == FIRING else ":large_green_circle:"
    headline = f"{icon} *{state}* · *{group_title(group)}*" + (f" · {severity}" if severity else "")
    counts = t("{firing} firing, {resolved} resolved", firing=firing, resolved=resolved)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{counts}")),
        ContextBlock(elements=[MarkdownTextObject(text=_context(t, group))]),
    ]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=render_alert(t, a, tz, now))) for a in _shown(alerts)
    ]
    more = _more(t, group, alerts)
    if more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    status = _status_line(t, group, tz, now)
    if not silences:
        hint = t("Silence buttons appear once `IRIS_ALERTMANAGER_URL` is set.")
        status = f"{status} · {hint}" if status else hint
    if status:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status)]))
    buttons = _buttons(t, group, now, silences)
    if buttons:  # Slack refuses an actions block without elements
        blocks.append(ActionsBlock(elements=buttons))
    text = f"{state}: {group_title(group)} — {counts}"
    return text, [b.to_dict() for b in blocks]


def alert_counts(group: AlertGroup, alerts: list[Alert]) -> tuple[int, int]:
    """(firing, resolved): the stored alerts and those of a large group that are only counted."""
    firing = sum(1 for a in alerts if a.status == FIRING) + group.omitted_firing
    return firing, len(alerts) + group.omitted_firing + group.omitted_resolved - firing


def unlisted(group: AlertGroup) -> int:
    """Alerts of the group's last notification that no file lists: beyond the cap, or left out by the
    sender (Alertmanager's max_alerts)."""
    return group.omitted_firing + group.omitted_resolved + group.truncated


def _more(t: Translator, group: AlertGroup, alerts: list[Alert]) -> str:
    """The line under the first alerts of a large group: how many more, and where they are."""
    listed, counted = len(alerts) - min(len(alerts), MAX_SHOWN), unlisted(group)
    if not listed + counted:
        return ""
    if not counted:
        return t("…and {n} more alerts: the full list is in the thread.", n=listed)
    if listed:
        line = t(
            "…and {n} more alerts: {listed} are listed in the thread, {counted} are only counted.",
            n=listed + counted,
            listed=listed,
            counted=counted,
        )
    else:
        line = t("…and {n} more alerts, only counted.", n=counted)
    reasons = []
    if group.omitted_firing + group.omitted_resolved:
        reasons.append(t("IRIS keeps {cap} alerts of a group, firing ones first.", cap=MAX_STORED_ALERTS))
    if group.truncated:
        reasons.append(t("The sender left {n} alerts out of its notification.", n=group.truncated))
    return " ".join([line, *reasons])


def _context(t: Translator, group: AlertGroup) -> str:
    labels = labels_line(json.loads(group.group_labels)) or t("(no group labels)")
    source = link(group.external_url, group.source) or group.source
    return f"{labels} · {source}"[:2900]


def _shown(alerts: list[Alert]) -> list[Alert]:
    """Firing alerts first, so a large group shows what still needs attention."""
    return sorted(alerts, key=lambda a: (a.status != FIRING, a.id or 0))[:MAX_SHOWN]


def render_alert(t: Translator, alert: Alert, tz: ZoneInfo, now: datetime) -> str:
    labels, notes = json.loads(alert.labels), json.loads(alert.annotations)
    name = escape_mrkdwn(labels.get("alertname", alert.fingerprint))[:150]
    if alert.status == FIRING:
        line = t(
            "{icon} *{name}* firing since {since}",
            icon=":red_circle:",
            name=name,
            since=clock_time(alert.starts_at, tz, now),
        )
    else:
        line = t(
            "{icon} *{name}* resolved at {at}",
            icon=":white_check_mark:",
            name=name,
            at=clock_time(alert.ends_at or alert.updated_at, tz, now),
        )
    parts = [line]
    for key in ("summary", "description"):
        if notes.get(key):
            parts.append(escape_mrkdwn(notes[key][:MAX_FIELD]))
    links = [link(alert.generator_url, t("source")), link(notes.get("runbook_url", ""), t("runbook"))]
    if any(links):
        parts.append(" · ".join(x for x in links if x))
    return "\n".join(parts)[:2900]


def _status_line(t: Translator, group: AlertGroup, tz: ZoneInfo, now: datetime) -> str:
    lines = []
    if group.acked_by:
        lines.append(
            t(
                "Acknowledged by <@{user}> at {at}",
                user=group.acked_by,
                at=clock_time(group.acked_at, tz, now),
            )
        )
    if group.silenced_by and silence_active(group, now):
        lines.append(
            t(
                "Silenced by <@{user}> until {until}",
                user=group.silenced_by,
                until=clock_time(group.silenced_until, tz, now),
            )
        )
    return " · ".join(lines)


def silence_active(group: AlertGroup, now: datetime) -> bool:
    """IRIS's silence has not reached its end yet: past it, the Silence buttons are offered again."""
    until = as_utc(group.silenced_until)
    return group.silence_id is not None and until is not None and until > now


def _buttons(t: Translator, group: AlertGroup, now: datetime, silences: bool) -> list[ButtonElement]:
    value = str(group.id)
    buttons = []
    if not group.acked_by and group.status == FIRING:
        buttons.append(
            ButtonElement(text=t("Acknowledge"), action_id=ACK_ACTION, value=value, style="primary")
        )
    if not silences:  # neither could reach an Alertmanager
        return buttons
    if silence_active(group, now):
        buttons.append(ButtonElement(text=t("Unsilence"), action_id=UNSILENCE_ACTION, value=value))
    else:
        buttons += [
            ButtonElement(
                text=t("Silence {hours}h", hours=h), action_id=SILENCE_ACTION.format(hours=h), value=value
            )
            for h in (1, 4, 24)
        ]
    return buttons


def change_lines(t: Translator, events: list[AlertEvent], tz: ZoneInfo, now: datetime) -> list[str]:
    """A line per change worth telling in the thread, oldest first."""
    return [line for line in (_event_line(t, e, tz, now) for e in events) if line]


def reply_text(
    t: Translator, lines: list[str], alerts: list[Alert], any_resolved: bool, more: int = 0
) -> str | None:
    """The reply telling these changes (perhaps of several notifications merged while they waited):
    `lines` and `more` changes not kept as lines, and how much of the group is resolved now."""
    if not lines:
        return None
    if len(lines) + more > MAX_REPLY_LINES:
        more += len(lines) - MAX_REPLY_LINES
        lines = [*lines[:MAX_REPLY_LINES], t("…and {n} more changes.", n=more)]
    resolved = sum(1 for a in alerts if a.status != FIRING)
    if any_resolved and resolved < len(alerts):
        lines = [*lines, t("{resolved} of {total} resolved", resolved=resolved, total=len(alerts))]
    return "\n".join(lines)


def _event_line(t: Translator, event: AlertEvent, tz: ZoneInfo, now: datetime) -> str | None:
    name = escape_mrkdwn(event.detail)[:150]
    templates = {
        "joined": lambda: t(":heavy_plus_sign: *{name}* joined the group, firing", name=name),
        "resolved": lambda: t(":white_check_mark: *{name}* resolved", name=name),
        "refired": lambda: t(":repeat: *{name}* re-fired", name=name),
        "group_resolved": lambda: t(":large_green_circle: All alerts of the group resolved"),
        "acked": lambda: t(":eyes: Acknowledged by <@{user}>", user=event.detail),
        "silenced": lambda: t(":mute: Silenced by <@{user}>", user=event.detail),
        "unsilenced": lambda: t(":loud_sound: Unsilenced by <@{user}>", user=event.detail),
    }
    make = templates.get(event.kind)
    return make() if make else None


def full_list(alerts: list[Alert]) -> str:
    """Every alert of a large group, one line each, for the file in the thread."""
    rows = []
    for alert in alerts:
        labels, notes = json.loads(alert.labels), json.loads(alert.annotations)
        since = as_utc(alert.starts_at).isoformat() if alert.starts_at else "?"  # type: ignore[union-attr]
        label_text = ",".join(f"{k}={v}" for k, v in labels.items())
        rows.append(f"{alert.status}\t{since}\t{alert.fingerprint}\t{label_text}\t{notes.get('summary', '')}")
    return "status\tstarts_at\tfingerprint\tlabels\tsummary\n" + "\n".join(rows) + "\n"
