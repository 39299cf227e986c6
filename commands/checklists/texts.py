"""Answers to `/iris checklist` that are plain text: templates, open checklists, diffs, the announcement."""

from __future__ import annotations

from collections.abc import Iterable

from bot.checklists.diff import TemplateDiff
from bot.checklists.library import Listing
from bot.checklists.state import ChecklistState
from bot.i18n import Translator
from commands.checklists.views import progress_line
from commands.kit import COMMAND, escape_mrkdwn

MAX_LISTED = 20
MAX_DIFF_CHARS = 2900


def render_templates(t: Translator, listing: Listing) -> str:
    if not listing.valid and not listing.broken:
        return t("There are no templates in the checklists folder set in iris.yml.")
    lines = [t("Checklist templates:")]
    for template in listing.valid[:MAX_LISTED]:
        lines.append(
            t(
                "• *{name}* v{version} — {count} items{description}",
                name=escape_mrkdwn(template.name),
                version=escape_mrkdwn(template.version),
                count=len(template.items),
                description=f" — {escape_mrkdwn(template.description)}" if template.description else "",
            )
        )
    for path, error in listing.broken[:MAX_LISTED]:
        lines.append(
            t(
                "• `{file}`: does not parse ({count} problems; `iris checklist check {file}` lists them)",
                file=escape_mrkdwn(path.name),
                count=len(error.errors),
            )
        )
    return "\n".join(lines)


def render_open(t: Translator, states: list[ChecklistState]) -> str:
    if not states:
        return t(
            "No checklist is open in this channel. Start one with `{command} checklist start "
            "<template> [release]`.",
            command=COMMAND,
        )
    lines = [t("Open checklists in this channel:")]
    for state in states[:MAX_LISTED]:
        release = f" — {escape_mrkdwn(state.checklist.release)}" if state.checklist.release else ""
        lines.append(
            t(
                "• {id}: `{label}`{release}, {progress}, started by <@{user}>",
                id=state.id,
                label=escape_mrkdwn(state.label),
                release=release,
                progress=progress_line(t, state),
                user=state.checklist.started_by,
            )
        )
    return "\n".join(lines)


def render_diff(t: Translator, diff: TemplateDiff) -> str:
    head = t(
        "v{before} → v{after}: {old} → {new} items",
        before=escape_mrkdwn(diff.before.version),
        after=escape_mrkdwn(diff.after.version),
        old=len(diff.before.items),
        new=len(diff.after.items),
    )
    if diff.before.content_hash == diff.after.content_hash:
        return head + t("; the same content.")
    if diff.unchanged:
        return head + t("; the same items (only other text changed).")
    parts = [head]
    if diff.added:
        parts.append(t("added: {items}", items=_quoted(i.text for i in diff.added)))
    if diff.removed:
        parts.append(t("removed: {items}", items=_quoted(i.text for i in diff.removed)))
    if diff.reworded:
        parts.append(
            t(
                "reworded: {items}",
                items=", ".join(
                    f"“{escape_mrkdwn(old.text)}” → “{escape_mrkdwn(new.text)}”" for old, new in diff.reworded
                ),
            )
        )
    text = "; ".join(parts)
    return text if len(text) <= MAX_DIFF_CHARS else text[: MAX_DIFF_CHARS - 1] + "…"


def _quoted(texts: Iterable[str]) -> str:
    return ", ".join(f"“{escape_mrkdwn(text)}”" for text in texts)


def render_announcement(t: Translator, state: ChecklistState) -> str:
    c = state.checklist
    count = f"{state.done}/{state.total}"
    label = f"*{escape_mrkdwn(state.label)}*"
    if c.release:
        text = t(
            "{label} for release {release} is complete: {count}",
            label=label,
            release=escape_mrkdwn(c.release),
            count=count,
        )
    else:
        text = t("{label} is complete: {count}", label=label, count=count)
    if c.approved_by:
        text += t(", approved by <@{user}>", user=c.approved_by)
    if state.not_applicable:
        text += t(" ({count} not applicable)", count=state.not_applicable)
    return text + "."
