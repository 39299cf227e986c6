"""The briefings' port to Slack: reminders and start messages, answers shown on each, and the wrap-up."""

from __future__ import annotations

from sqlmodel import Session

from bot.briefings.service import Occurrence, WrapUp
from bot.i18n import Translator
from bot.outbox import Outbox, post_message, update_message
from commands.briefings.views import render_absentee_dm, render_done, render_firing
from storage.briefings import Briefing, BriefingFiring

SOURCE = "brief"


class SlackPublisher:
    """Implements bot.briefings.service.Publisher; every message is queued in the change's transaction."""

    def __init__(self, t: Translator, outbox: Outbox) -> None:
        self._t = t
        self._outbox = outbox

    def firing(
        self, session: Session, briefing: Briefing, firing: BriefingFiring, answers: dict[str, str]
    ) -> int:
        text, blocks = render_firing(self._t, briefing, firing, answers)
        return self._outbox.send_in(session, post_message(briefing.channel_id, text, blocks, source=SOURCE))

    def answers_changed(
        self, session: Session, occurrence: Occurrence, messages: list[BriefingFiring]
    ) -> None:
        """Every reminder and the start message of the occurrence show the answers, queued with the click."""
        briefing = occurrence.briefing
        for firing in messages:
            assert firing.message_id is not None
            text, blocks = render_firing(self._t, briefing, firing, occurrence.answers)
            edit = update_message(briefing.channel_id, firing.message_id, text, blocks, source=SOURCE)
            self._outbox.send_in(session, edit)

    def finished(self, session: Session, occurrence: Occurrence, wrap_up: WrapUp) -> None:
        """The thread reply and one DM per absentee, in the transaction marking it done."""
        briefing, start = occurrence.briefing, occurrence.firing
        text = render_done(self._t, occurrence, wrap_up.recording, wrap_up.notes)
        dm = render_absentee_dm(self._t, occurrence, wrap_up.recording, wrap_up.notes)
        outbox = self._outbox
        outbox.send_in(
            session, post_message(briefing.channel_id, text, thread_of=start.message_id, source=SOURCE)
        )
        for user in occurrence.absentees:
            dedupe = f"brief-done:{start.id}:{user}"
            outbox.send_in(session, post_message(user, dm, dedupe_key=dedupe, source=SOURCE))
