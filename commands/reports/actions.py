"""The work behind `/iris note`, `/iris report` and the report preview's buttons, run after the ack."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import LANGUAGES, N_
from bot.reports.compose import Byline
from bot.reports.model import Report
from bot.reports.notes import NewNote, NoteService
from bot.reports.render import render_html, render_markdown
from bot.reports.service import ReportService
from commands.kit import COMMAND, Invocation, escape_mrkdwn, reply
from commands.reports.parse import DAY, NoteArgs, ReportArgs, heading
from commands.reports.views import render_code, render_report
from storage.fit import clean
from storage.outbox import NewMessage

SOURCE = "report"
KIND_WORDS = {
    "goal": N_("goal"),
    "work": N_("work"),
    "problem": N_("problem"),
    "next": N_("next"),
    "ref": N_("ref"),
}


def add_note(deps: Deps, invocation: Invocation, args: NoteArgs) -> NewMessage:
    note = NewNote(args.kind, args.text, args.day, args.response, invocation.channel_id)
    row = deps.service(NoteService).add(note, invocation.audit("note.add"))
    answer = deps.t(
        "Noted for the report of {day}: {kind} (note {id}).",
        day=args.day.isoformat(),
        kind=deps.t(KIND_WORDS[args.kind]),
        id=row.id,
    )
    return reply(invocation, answer, source=SOURCE)


def list_notes(deps: Deps, invocation: Invocation, day: date) -> NewMessage:
    notes = deps.service(NoteService).on(day)
    if not notes:
        return reply(invocation, deps.t("No notes for {day} yet.", day=day.isoformat()), source=SOURCE)
    lines = [deps.t("Notes for the report of {day}:", day=day.isoformat())]
    for note in notes:
        response = f" → {escape_mrkdwn(note.response)}" if note.response else ""
        kind = deps.t(KIND_WORDS.get(note.kind, note.kind))
        lines.append(f"• `{note.id}` {kind}: {escape_mrkdwn(note.text)}{response} (<@{note.author}>)")
    return reply(invocation, "\n".join(lines)[:3900], source=SOURCE)


def delete_note(deps: Deps, invocation: Invocation, note_id: int) -> NewMessage:
    deps.service(NoteService).delete(note_id, invocation.audit("note.delete"))
    return reply(
        invocation, deps.t("Deleted note {id}; it is left out of every report.", id=note_id), source=SOURCE
    )


def preview(deps: Deps, invocation: Invocation, args: ReportArgs) -> NewMessage:
    service = deps.service(ReportService)
    report = service.report(args.day, args.lang, _byline(args, invocation))
    asked = ReportArgs(args.day, report.lang, args.stage, args.keywords)  # the language it came out in
    text, blocks = render_report(deps.t, report, buttons=button_value(asked))
    return reply(invocation, text, blocks, source=SOURCE)


def post(deps: Deps, invocation: Invocation, args: ReportArgs) -> NewMessage:
    channel = deps.config.iris.channels.reports
    if not channel:
        raise UserError(deps.t("Set `channels.reports` in iris.yml to post reports."))
    audit = invocation.audit("report.post")
    deps.service(ReportService).post(args.day, channel, audit, args.lang, _byline(args, invocation))
    answer = deps.t(
        "Posting the report of {day} in <#{channel}>, with its Markdown and HTML files.",
        day=args.day,
        channel=channel,
    )
    return reply(invocation, answer, source=SOURCE)


def post_clicked(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    return post(deps, invocation, _clicked(deps, action))


def markdown_clicked(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    return _written_form(deps, invocation, action, N_("The report of {day} in Markdown"), render_markdown)


def html_clicked(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    return _written_form(deps, invocation, action, N_("The report of {day} as HTML for pasting"), render_html)


def _written_form(
    deps: Deps,
    invocation: Invocation,
    action: Mapping[str, Any],
    title: str,
    render: Callable[[Report], str],
) -> NewMessage:
    """One written form of the clicked preview's report, shown privately as code to copy."""
    args = _clicked(deps, action)
    report = deps.service(ReportService).report(args.day, args.lang, _byline(args, invocation))
    text, blocks = render_code(deps.t, deps.t(title, day=args.day), render(report))
    return reply(invocation, text, blocks, source=SOURCE)


def _byline(args: ReportArgs, invocation: Invocation) -> Byline:
    return Byline(user=invocation.user_id, stage=args.stage, keywords=args.keywords)


def button_value(args: ReportArgs) -> str:
    """What a preview's buttons carry: the day, language, and any stage and keywords it was asked with."""
    value: dict[str, Any] = {"day": args.day.isoformat(), "lang": args.lang}
    if args.stage:
        value["stage"] = args.stage
    if args.keywords:
        value["keywords"] = ", ".join(args.keywords)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _clicked(deps: Deps, action: Mapping[str, Any]) -> ReportArgs:
    """The button's value as button_value wrote it; anything else was not made by this IRIS."""
    try:
        value = json.loads(str(action.get("value") or ""))
        day, lang = value["day"], value["lang"]
        stage, keywords = value.get("stage"), value.get("keywords")
        if not (isinstance(day, str) and DAY.match(day) and lang in LANGUAGES):
            raise ValueError(day)
        if not all(v is None or isinstance(v, str) for v in (stage, keywords)):
            raise ValueError(stage)
        stage, keywords = (clean(v) if v is not None else None for v in (stage, keywords))  # JSON's \ud800
        return ReportArgs(date.fromisoformat(day), lang, *heading(deps.t, stage, keywords))
    except (ValueError, TypeError, KeyError, UserError):
        raise UserError(
            deps.t(
                "That button was not made by this IRIS; `{command} report` shows today's.", command=COMMAND
            )
        ) from None
