"""Block Kit for briefings: confirmations, reminders with attendance buttons, the list, and `done`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.briefings.service import Occurrence, plan_of
from bot.i18n import Translator
from commands.kit import COMMAND, escape_mrkdwn, slack_date, team_time
from storage import briefings as repo
from storage.briefings import Briefing, BriefingFiring
from storage.clock import as_utc

ATTEND_ACTION, ABSENT_ACTION = "brief_attend", "brief_absent"
# Mentions named per answer: anyone in the channel may click, and three lists of this many mentions
# stay inside Slack's 3000 characters for the one text under the buttons.
MAX_PEOPLE_SHOWN = 40
Blocks = list[dict[str, Any]]


def duration(t: Translator, seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, t("{n} d")), (hours, t("{n} h")), (minutes, t("{n} min")), (secs, t("{n} s"))]
    return " ".join(label.format(n=n) for n, label in parts if n) or t("now")


def describe_schedule(t: Translator, briefing: Briefing, now: datetime) -> str:
    plan = plan_of(briefing)
    upcoming = plan.next_start(now)
    when = slack_date(upcoming, briefing.zone) if upcoming else t("no further start")
    if briefing.rule:
        return t(
            "{when} (repeats: `{rule}` on the {zone} clock)",
            when=when,
            rule=briefing.rule,
            zone=briefing.zone,
        )
    return when


def render_confirmation(t: Translator, briefing: Briefing, now: datetime) -> str:
    plan = plan_of(briefing)
    upcoming = plan.next_start(now)
    leads = repo.leads_of(briefing)
    reminders = ", ".join(duration(t, lead) for lead in leads) if leads else t("none before the start")
    kind = t("Milestone") if briefing.kind == "milestone" else t("Briefing")
    return t(
        "{kind} `{id}` *{title}* is scheduled for {when} — that is {exact}. Reminders: {reminders}; "
        "posted in <#{channel}>.",
        kind=kind,
        id=briefing.id,
        title=escape_mrkdwn(briefing.title),
        when=describe_schedule(t, briefing, now),
        exact=team_time(upcoming, briefing.zone) if upcoming else "—",
        reminders=reminders,
        channel=briefing.channel_id,
    )


def render_firing(
    t: Translator, briefing: Briefing, firing: BriefingFiring, answers: dict[str, str]
) -> tuple[str, Blocks]:
    """A reminder (lead > 0) or start message; answers so far are shown under the buttons."""
    headline = _headline(t, briefing, firing)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=headline))]
    if briefing.agenda:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=t("*Agenda*\n{agenda}", agenda=escape_mrkdwn(briefing.agenda)[:2900])
                )
            )
        )
    if briefing.kind != "milestone":
        blocks.append(
            ActionsBlock(
                block_id=f"brief-{firing.id}",
                elements=[
                    ButtonElement(
                        text=t("Attending"), action_id=ATTEND_ACTION, value=str(firing.id), style="primary"
                    ),
                    ButtonElement(text=t("Can't attend"), action_id=ABSENT_ACTION, value=str(firing.id)),
                ],
            )
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=render_answers(t, briefing, answers))]))
    return headline, [block.to_dict() for block in blocks]


def _headline(t: Translator, briefing: Briefing, firing: BriefingFiring) -> str:
    title, start = escape_mrkdwn(briefing.title), slack_date(as_utc(firing.occurrence_at), briefing.zone)
    if firing.lead:
        line = t(
            "⏰ *{title}* starts in {lead}, at {start}.",
            title=title,
            lead=duration(t, firing.lead),
            start=start,
        )
    elif briefing.kind == "milestone":
        line = t("📌 Milestone *{title}* is due now ({start}).", title=title, start=start)
    else:
        line = t("▶️ *{title}* starts now ({start}).", title=title, start=start)
    if firing.status == repo.LATE:
        line += " " + t(
            "_Posted late: IRIS was not running at {due}._",
            due=slack_date(as_utc(firing.fire_at), briefing.zone),
        )
    return line + f"  `{briefing.id}`"


def render_answers(t: Translator, briefing: Briefing, answers: dict[str, str]) -> str:
    attending = [u for u, a in answers.items() if a == repo.ATTENDING]
    absent = [u for u, a in answers.items() if a == repo.ABSENT]
    waiting = [u for u in repo.attendees_of(briefing) if u not in answers]
    parts = [
        t("Attending: {people}", people=_people(t, attending)),
        t("Can't attend: {people}", people=_people(t, absent)),
    ]
    if waiting:
        parts.append(t("No answer yet: {people}", people=_people(t, waiting)))
    return " · ".join(parts)


def _people(t: Translator, users: list[str]) -> str:
    if not users:
        return t("nobody")
    named = ", ".join(f"<@{u}>" for u in users[:MAX_PEOPLE_SHOWN])
    hidden = len(users) - MAX_PEOPLE_SHOWN
    return (named + " " + t("and {n} more people", n=hidden)) if hidden > 0 else named


def render_list(t: Translator, briefings: list[Briefing], now: datetime, *, total: int | None = None) -> str:
    if not briefings:
        return t(
            "No briefings or milestones are scheduled. Add one with {example}.",
            example=f'`{COMMAND} brief add "Release briefing" tomorrow 16:00`',
        )
    lines = [t("*Upcoming briefings and milestones*")]
    for briefing in briefings:
        marker = "📌" if briefing.kind == "milestone" else "🗓"
        lines.append(
            f"{marker} `{briefing.id}` *{escape_mrkdwn(briefing.title)}* — "
            f"{describe_schedule(t, briefing, now)} · <#{briefing.channel_id}>"
        )
    if total is not None and total > len(briefings):
        lines.append(t("…and {count} more further ahead.", count=total - len(briefings)))
    return "\n".join(lines)


def render_done(t: Translator, occurrence: Occurrence, recording: str | None, notes: str) -> str:
    """The thread reply and the direct message say the same: what was recorded, and the notes."""
    briefing = occurrence.briefing
    lines = [t("✅ *{title}* is over.", title=escape_mrkdwn(briefing.title))]
    if recording:
        lines.append(t("Recording: {url}", url=recording))
    if notes:
        lines.append(t("Notes: {notes}", notes=escape_mrkdwn(notes)))
    return "\n".join(lines)


def render_absentee_dm(t: Translator, occurrence: Occurrence, recording: str | None, notes: str) -> str:
    start = slack_date(as_utc(occurrence.firing.occurrence_at), occurrence.briefing.zone)
    lead = t(
        "You missed *{title}* ({start}) in <#{channel}>; here is what you need.",
        title=escape_mrkdwn(occurrence.briefing.title),
        start=start,
        channel=occurrence.briefing.channel_id,
    )
    return lead + "\n" + render_done(t, occurrence, recording, notes)
