"""The work of `/iris incidents`: the open alert groups, their state and links, for the one who asked."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from bot.alerts.service import AlertService, OpenGroup
from bot.deps import Deps
from bot.i18n import Translator
from commands.alerts.views import alert_counts, clock_time, group_title, labels_line, link, silence_active
from commands.kit import Invocation, reply
from storage.outbox import NewMessage

MAX_LISTED = 25
MAX_TEXT = 3900  # one ephemeral message, well inside Slack's limit


def list_incidents(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    total, shown = deps.service(AlertService).open_groups(MAX_LISTED)
    lines = [_group_line(deps, found) for found in shown]
    if not lines:
        return reply(invocation, deps.t("No alert group is firing."), source="incidents")
    return reply(
        invocation, _within_limit([deps.t("{n} open alert groups:", n=total), *lines]), source="incidents"
    )


def _group_line(deps: Deps, found: OpenGroup) -> str:
    tz, now = ZoneInfo(deps.config.settings.iris_timezone), deps.clock()
    group, alerts = found.group, found.alerts
    firing, resolved = alert_counts(group, alerts)
    where = _permalink(*found.posted) if found.posted else ""
    silenced_by = group.silenced_by if silence_active(group, now) else None
    line = deps.t(
        "• *{title}* {labels} — {firing} of {total} firing since {since}{state}",
        title=group_title(group),
        labels=labels_line(json.loads(group.group_labels)),
        firing=firing,
        total=firing + resolved,
        since=clock_time(group.first_seen, tz, now),
        state=_state(deps.t, group.acked_by, silenced_by),
    )
    return line + (f" · {link(where, deps.t('message'))}" if where else "")


def _within_limit(lines: list[str]) -> str:
    """Whole lines only: a line cut short could leave a `<link|` open and garble the rest."""
    kept = lines[:1]
    for line in lines[1:]:
        if sum(len(k) + 1 for k in kept) + len(line) > MAX_TEXT:
            break
        kept.append(line)
    return "\n".join(kept)


def _state(t: Translator, acked_by: str | None, silenced_by: str | None) -> str:
    parts = []
    if acked_by:
        parts.append(t("acknowledged by <@{user}>", user=acked_by))
    if silenced_by:
        parts.append(t("silenced by <@{user}>", user=silenced_by))
    return (" · " + ", ".join(parts)) if parts else ""


def _permalink(channel: str | None, ts: str) -> str:
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
