"""The checklists' port to Slack: a checklist's message posted, edited from the database, the announcement."""

from __future__ import annotations

from sqlmodel import Session

from bot.checklists.state import ChecklistState
from bot.i18n import Translator
from bot.outbox import Outbox, post_message, update_message
from commands.checklists.texts import render_announcement
from commands.checklists.views import render_checklist

SOURCE = "checklist"


class SlackPublisher:
    """Enqueues in the transaction that changed the checklist, so the change and its message commit together.

    Each change holds the checklist's row lock while it renders, so edits reach the outbox in the
    order the changes were made and the last edit always shows the latest state.
    """

    def __init__(self, t: Translator, outbox: Outbox) -> None:
        self._t = t
        self._outbox = outbox

    def started(self, session: Session, state: ChecklistState) -> int | None:
        text, blocks = render_checklist(self._t, state)
        return self._outbox.send_in(
            session, post_message(state.checklist.channel_id, text, blocks, source=SOURCE)
        )

    def changed(self, session: Session, state: ChecklistState, chosen_page: bool = False) -> None:
        message_id = state.checklist.message_id
        if message_id is None:
            return
        text, blocks = render_checklist(self._t, state, chosen_page)
        self._outbox.send_in(
            session, update_message(state.checklist.channel_id, message_id, text, blocks, source=SOURCE)
        )

    def completed(self, session: Session, state: ChecklistState) -> None:
        self.changed(session, state)  # finalised: the compact record, no buttons
        announcement = render_announcement(self._t, state)
        self._outbox.send_in(
            session,
            post_message(
                state.checklist.channel_id,
                announcement,
                source=SOURCE,
                dedupe_key=f"checklist-complete:{state.id}",
            ),
        )
