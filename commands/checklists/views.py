"""Block Kit for a checklist message: items with their state and buttons, paged within 50 blocks."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.checklists.state import ChecklistState, ItemState
from bot.i18n import Translator
from commands.kit import escape_mrkdwn, shorten, slack_date

SIGN, NA, NOTE, UNDO, APPROVE, PAGE = (
    "checklist_sign",
    "checklist_na",
    "checklist_note",
    "checklist_undo",
    "checklist_approve",
    "checklist_page",
)
MESSAGE_BLOCKS = 50  # Slack's limit for one message
FRAME_BLOCKS = 3  # the headline, the context line and the page buttons
SECTION_LIMIT = 2900  # under Slack's 3000 characters a section
NOTES_SHOWN, NOTE_CHARS = 2, 200
SECTION_NAME_CHARS = 200  # a heading shown; the template's own has no limit
Rendered = tuple[str, list[dict[str, Any]]]


def progress_line(t: Translator, state: ChecklistState) -> str:
    if state.not_applicable:
        return t(
            "{done}/{total} done: {signed} signed, {na} N/A",
            done=state.done,
            total=state.total,
            signed=state.signed,
            na=state.not_applicable,
        )
    return t("{signed}/{total} signed", signed=state.signed, total=state.total)


def paginate(state: ChecklistState) -> list[list[ItemState]]:
    """Pages of items whose blocks (two an item, one a section heading) fit one message with the frame."""
    budget = MESSAGE_BLOCKS - FRAME_BLOCKS
    pages: list[list[ItemState]] = [[]]
    used = 0
    for item in state.items:
        page = pages[-1]
        cost = 2 + (1 if not page or page[-1].section != item.section else 0)
        if page and used + cost > budget:
            pages.append([])
            used, cost = 0, 3
        pages[-1].append(item)
        used += cost
    return pages


def shown_page(state: ChecklistState, pages: list[list[ItemState]], chosen: bool = False) -> int:
    """The stored page, unless all its items are done: then the first page that still has work.

    A page someone has just chosen is shown as it is, done or not: its Undo and Note must stay reachable.
    """
    page = min(max(state.checklist.page, 0), len(pages) - 1)
    if not chosen and all(item.done for item in pages[page]):
        return next((n for n, items in enumerate(pages) if any(not i.done for i in items)), page)
    return page


def render_checklist(t: Translator, state: ChecklistState, chosen_page: bool = False) -> Rendered:
    """The living message: interactive while open, a compact final record once complete."""
    if state.complete:
        return render_readonly(t, state)
    pages = paginate(state)
    page = shown_page(state, pages, chosen_page)
    blocks: list[Block] = [_headline(t, state), _context(t, state)]
    section = None
    for item in pages[page]:
        if item.section != section:
            section = item.section
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_heading(section))))
        blocks += [
            SectionBlock(block_id=f"item-{item.position}", text=MarkdownTextObject(text=item_line(t, item))),
            ActionsBlock(block_id=f"act-{item.position}", elements=_buttons(t, state, item)),
        ]
    if len(pages) > 1:
        blocks.append(_page_buttons(t, state, page, len(pages)))
    return _fallback(t, state), [b.to_dict() for b in blocks]


def render_readonly(t: Translator, state: ChecklistState) -> Rendered:
    """No buttons: one block per section, so even a 100-item checklist fits."""
    blocks: list[Block] = [_headline(t, state), _context(t, state)]
    for section in dict.fromkeys(item.section for item in state.items):
        lines = [item_line(t, item) for item in state.items if item.section == section]
        for chunk in _chunks([_heading(section), *lines]):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    return _fallback(t, state), [b.to_dict() for b in blocks[:MESSAGE_BLOCKS]]


def _chunks(lines: list[str]) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:SECTION_LIMIT]
    return [*chunks, current] if current else chunks


def _heading(section: str) -> str:
    return f"*{escape_mrkdwn(shorten(section, SECTION_NAME_CHARS))}*"


def _headline(t: Translator, state: ChecklistState) -> SectionBlock:
    c = state.checklist
    release = t(" for release *{release}*", release=escape_mrkdwn(c.release)) if c.release else ""
    status = t("complete") if state.complete else progress_line(t, state)
    text = t(
        "*{title}*\n`{label}`{release} · checklist {id} · *{status}*",
        title=escape_mrkdwn(c.title),
        label=escape_mrkdwn(state.label),
        release=release,
        id=state.id,
        status=status,
    )
    return SectionBlock(block_id="headline", text=MarkdownTextObject(text=text))


def _context(t: Translator, state: ChecklistState) -> ContextBlock:
    c = state.checklist
    text = t("Started by <@{user}> {when}", user=c.started_by, when=slack_date(c.started_at))
    if state.complete and c.completed_at is not None:
        text += " · " + t("completed {when}", when=slack_date(c.completed_at))
        if c.approved_by:
            text += " · " + t("approved by <@{user}>", user=c.approved_by)
    return ContextBlock(block_id="context", elements=[MarkdownTextObject(text=text)])


def item_line(t: Translator, item: ItemState) -> str:
    text, standing = escape_mrkdwn(item.text), item.standing
    who = _who(t, item)
    if standing is None:
        line = f"⬜ *{item.position}.* {text}{who}"
    elif standing.kind == "sign":
        verb = t("approved by") if item.approval else t("signed by")
        line = f"✅ *{item.position}.* {text} — {verb} <@{standing.user_id}> {slack_date(standing.at)}"
    else:
        reason = _one_line(standing.reason or "")
        line = f"➖ *{item.position}.* ~{text}~ — " + t(
            "N/A by <@{user}> {when}: _{reason}_",
            user=standing.user_id,
            when=slack_date(standing.at),
            reason=reason,
        )
    return line + _notes(t, item, SECTION_LIMIT - len(line))


def _notes(t: Translator, item: ItemState, room: int) -> str:
    """The latest notes that fit in `room`: escaping can make a note five times longer than it was typed."""
    shown = [f"\n> 📝 <@{note.user_id}>: {_one_line(note.text)}" for note in item.notes[-NOTES_SHOWN:]]
    while True:
        hidden = len(item.notes) - len(shown)
        tail = ("\n" + t("> _{count} earlier notes are in the export_", count=hidden)) if hidden > 0 else ""
        if not shown or sum(map(len, shown)) + len(tail) <= room:
            return "".join(shown) + tail
        shown.pop(0)


def _one_line(text: str) -> str:
    """A note or reason stays inside its quote: its own line breaks could fake another item's line."""
    return escape_mrkdwn(" ".join(text.split())[:NOTE_CHARS])


def _who(t: Translator, item: ItemState) -> str:
    if item.approval:
        return " _" + t("(approval: approvers, after every other item)") + "_"
    if item.owner is None:
        return ""
    owner = f"<@{item.owner}>" if item.owner.startswith(("U", "W")) else item.owner
    return " _" + t("(owner: {owner})", owner=owner) + "_"


def _buttons(t: Translator, state: ChecklistState, item: ItemState) -> list[ButtonElement]:
    value = f"{state.id}:{item.position}"
    note = ButtonElement(text=t("Note"), action_id=NOTE, value=value)
    if item.standing is not None:
        confirm = ConfirmObject(
            title=t("Undo this sign-off?"),
            text=t("The undo is recorded in the trail."),
            confirm=t("Undo"),
            deny=t("Keep it"),
        )
        undo_value = f"{value}:{item.standing.signoff_id}" if item.standing.signoff_id else value
        return [ButtonElement(text=t("Undo"), action_id=UNDO, value=undo_value, confirm=confirm), note]
    if item.approval:
        return [ButtonElement(text=t("Approve"), action_id=APPROVE, value=value, style="primary"), note]
    return [
        ButtonElement(text=t("Sign off"), action_id=SIGN, value=value, style="primary"),
        ButtonElement(text=t("N/A"), action_id=NA, value=value),
        note,
    ]


def _page_buttons(t: Translator, state: ChecklistState, page: int, count: int) -> ActionsBlock:
    elements = [
        ButtonElement(
            text=t(
                "Page {n} of {count}: {first}–{last}",
                n=n + 1,
                count=count,
                first=items[0].position,
                last=items[-1].position,
            ),
            action_id=f"{PAGE}_{n}",
            value=f"{state.id}:{n}",
            style="primary" if n == page else None,
        )
        for n, items in enumerate(paginate(state))
    ][:25]
    return ActionsBlock(block_id="pages", elements=elements)


def _fallback(t: Translator, state: ChecklistState) -> str:
    return t(
        "Checklist {id}: {label}, {progress}",
        id=state.id,
        label=state.label,
        progress=t("complete") if state.complete else progress_line(t, state),
    )
