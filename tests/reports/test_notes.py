"""Notes for a day's report on SQLite and PostgreSQL: audited with each change, deleted by author or admin."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.errors import Refused
from bot.reports.notes import NewNote, NoteService
from storage import audit
from storage.audit import Actor, Audit
from storage.db import read_scope
from tests.reports.conftest import DAY, at

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def _service(engine: Engine) -> NoteService:
    return NoteService(engine, lambda user: user == "UADMIN", lambda: at(10))


def _by(user: str, action: str) -> Audit:
    return Audit(Actor(user, "T1", "C0OPS"), action)


def test_a_note_is_kept_for_its_day_and_audited_with_it(engine: Engine) -> None:
    notes = _service(engine)
    note = notes.add(
        NewNote("problem", "APM index saturated", DAY, "retention cut to 7 days"), _by("UKIM", "note.add")
    )
    notes.add(NewNote("goal", "Another day", date(2024, 12, 13)), _by("UKIM", "note.add"))
    [kept] = notes.on(DAY)
    assert (kept.id, kept.kind, kept.text, kept.response, kept.author) == (
        note.id,
        "problem",
        "APM index saturated",
        "retention cut to 7 days",
        "UKIM",
    )
    with read_scope(engine) as session:
        trail = [(e.action, e.target, e.actor) for e in audit.since(session, LONG_AGO)]
    assert trail[0] == ("note.add", str(note.id), "UKIM")


def test_only_its_author_or_an_admin_deletes_a_note_and_a_refusal_is_audited(engine: Engine) -> None:
    notes = _service(engine)
    first = notes.add(NewNote("work", "one", DAY), _by("UKIM", "note.add"))
    second = notes.add(NewNote("work", "two", DAY), _by("UKIM", "note.add"))
    assert first.id is not None and second.id is not None
    with pytest.raises(Refused, match="Only <@UKIM>, who wrote note"):
        notes.delete(first.id, _by("UOTHER", "note.delete"))
    notes.delete(first.id, _by("UKIM", "note.delete"))
    notes.delete(second.id, _by("UADMIN", "note.delete"))
    assert notes.on(DAY) == []
    with pytest.raises(Refused, match="There is no note"):
        notes.delete(first.id, _by("UKIM", "note.delete"))  # already gone
    with read_scope(engine) as session:
        outcomes = [(e.action, e.actor, e.outcome) for e in audit.since(session, LONG_AGO)][2:]
    assert outcomes == [
        ("note.delete", "UOTHER", "refused"),
        ("note.delete", "UKIM", "ok"),
        ("note.delete", "UADMIN", "ok"),
    ]
