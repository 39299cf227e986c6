"""The two modals a checklist opens: why an item is not applicable, and a note on an item."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, MarkdownTextObject, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from bot.checklists.rules import MAX_NOTE, MAX_REASON
from bot.checklists.state import ItemState
from bot.i18n import Translator
from commands.kit import escape_mrkdwn

NA_VIEW, NOTE_VIEW = "checklist_na_view", "checklist_note_view"
TEXT_BLOCK, TEXT_ACTION = "text", "text_input"


def text_modal(
    t: Translator, kind: str, checklist_id: int, item: ItemState | None, position: int, origin: str
) -> dict[str, Any]:
    """`kind` is NA_VIEW or NOTE_VIEW; the checklist, the item and `origin` (the channel and message
    the form was opened from, see parse.form_origin) travel in private_metadata."""
    is_na = kind == NA_VIEW
    about = escape_mrkdwn(item.text) if item is not None else str(position)
    intro = (
        t("Item {position}: *{text}*\nWhy does it not apply to this release?", position=position, text=about)
        if is_na
        else t("Item {position}: *{text}*", position=position, text=about)
    )
    field = PlainTextInputElement(
        action_id=TEXT_ACTION, multiline=True, min_length=1, max_length=MAX_REASON if is_na else MAX_NOTE
    )
    view = View(
        type="modal",
        callback_id=kind,
        private_metadata=f"{checklist_id}:{position} {origin}",
        title=t("Not applicable") if is_na else t("Note"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=intro)),
            InputBlock(block_id=TEXT_BLOCK, label=t("Reason") if is_na else t("Note"), element=field),
        ],
    )
    return view.to_dict()


def submitted_text(view: dict[str, Any]) -> str:
    values = ((view.get("state") or {}).get("values") or {}).get(TEXT_BLOCK) or {}
    return str((values.get(TEXT_ACTION) or {}).get("value") or "")
