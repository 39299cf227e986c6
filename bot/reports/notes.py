"""The team's notes for a day's report: add, list and delete, each change audited with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from bot.errors import Refused
from bot.i18n import N_
from storage import reports as repo
from storage.audit import Audit
from storage.db import read_scope, session_scope
from storage.reports import Note

MAX_TEXT = 1000


@dataclass(frozen=True)
class NewNote:
    kind: str  # one of storage.reports.KINDS
    text: str
    day: date
    response: str | None = None  # to a problem
    channel_id: str | None = None


class NoteService:
    def __init__(
        self, engine: Engine, is_admin: Callable[[str], bool], clock: Callable[[], datetime]
    ) -> None:
        self._engine = engine
        self._is_admin = is_admin
        self._clock = clock

    def add(self, note: NewNote, audit: Audit) -> Note:
        if note.kind not in repo.KINDS:
            raise ValueError(f"unknown note kind {note.kind!r}")
        row = Note(
            day=note.day,
            kind=note.kind,
            text=note.text,
            response=note.response,
            author=audit.actor.user_id,
            channel_id=note.channel_id,
            created_at=self._clock(),
        )
        with session_scope(self._engine) as session:
            repo.add_note(session, row)
            assert row.id is not None
            audit.record(session, str(row.id), kind=note.kind, day=note.day.isoformat())
        return row

    def on(self, day: date) -> list[Note]:
        with read_scope(self._engine) as session:
            return repo.notes_on(session, day)

    def delete(self, note_id: int, audit: Audit) -> Note:
        """Its author or an admin; Refused otherwise (the refusal audited), or when it is unknown."""
        user = audit.actor.user_id
        with session_scope(self._engine) as session:
            note = repo.get_note(session, note_id)
            if note is None:
                raise Refused(
                    N_("There is no note {id}; `/iris note list` shows the day's notes."), id=note_id
                )
            if note.author != user and not self._is_admin(user):
                audit.refused(session, str(note_id), needed="author or admins")
                session.commit()
                raise Refused(
                    N_("Only <@{user}>, who wrote note {id}, or an IRIS admin can delete it."),
                    user=note.author,
                    id=note_id,
                )
            repo.delete_note(session, note_id, user, self._clock())
            audit.record(session, str(note_id), kind=note.kind, day=note.day.isoformat())
        return note
