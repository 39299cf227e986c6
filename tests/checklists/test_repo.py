"""The checklist repository on SQLite and PostgreSQL: versions kept once, one standing sign-off per item."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from storage import checklists as repo
from storage.checklists import Checklist, ChecklistEvent, ChecklistItem, ChecklistSignoff
from storage.clock import utcnow
from storage.db import read_scope, session_scope


def _checklist(engine: Engine) -> int:
    with session_scope(engine) as session:
        template = repo.remember_template(
            session, name="t", version="1", content_hash="a" * 64, item_count=2, source="---"
        )
        checklist = repo.create(
            session,
            Checklist(
                template_id=template.id or 0,
                name="t",
                version="1",
                title="T",
                channel_id="C0OPS",
                started_by="URM",
            ),
            [ChecklistItem(checklist_id=0, position=p, section="S", text=f"step {p}") for p in (1, 2)],
        )
        assert checklist.id is not None
        return checklist.id


def _signoff(checklist: int, user: str, position: int = 1) -> ChecklistSignoff:
    return ChecklistSignoff(checklist_id=checklist, position=position, kind="sign", user_id=user, at=utcnow())


def test_a_template_version_is_stored_once_per_content_hash(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = repo.remember_template(
            session, name="t", version="1", content_hash="a" * 64, item_count=1, source="x"
        )
        again = repo.remember_template(
            session, name="t", version="1", content_hash="a" * 64, item_count=1, source="x"
        )
        edited = repo.remember_template(
            session, name="t", version="1", content_hash="b" * 64, item_count=1, source="y"
        )
    assert first.id == again.id != edited.id
    with read_scope(engine) as session:
        assert [v.content_hash[0] for v in repo.template_versions(session, "t")] == ["a", "b"]


def test_a_second_standing_sign_off_is_refused_and_the_transaction_goes_on(engine: Engine) -> None:
    checklist = _checklist(engine)
    with session_scope(engine) as session:
        repo.add_signoff(session, _signoff(checklist, "UONE"))
        with pytest.raises(repo.AlreadySigned) as caught:
            repo.add_signoff(session, _signoff(checklist, "UTWO"))
        assert caught.value.standing.user_id == "UONE"
        repo.add_signoff(session, _signoff(checklist, "UTWO", position=2))  # the savepoint kept us usable
    with read_scope(engine) as session:
        assert [(s.position, s.user_id) for s in repo.signoffs(session, checklist)] == [
            (1, "UONE"),
            (2, "UTWO"),
        ]


def test_an_undone_sign_off_stays_and_frees_the_item(engine: Engine) -> None:
    checklist = _checklist(engine)
    with session_scope(engine) as session:
        first = repo.add_signoff(session, _signoff(checklist, "UONE"))
        repo.undo_signoff(session, first, by="UADMIN", at=utcnow())
        repo.add_signoff(session, _signoff(checklist, "UTWO"))
    with read_scope(engine) as session:
        rows = repo.signoffs(session, checklist)
        standing = repo.standing(session, checklist, 1)
    assert [(s.user_id, s.undone_by) for s in rows] == [("UONE", "UADMIN"), ("UTWO", None)]
    assert standing is not None and standing.user_id == "UTWO"


def test_the_unique_index_alone_lets_one_of_many_concurrent_inserts_win(engine: Engine) -> None:
    """No checklist lock here: only the database's partial unique index stands between the clicks."""
    checklist = _checklist(engine)
    users = [f"URACE{n}" for n in range(6)]
    barrier = threading.Barrier(len(users))
    results: dict[str, str] = {}

    def insert(user: str) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                repo.add_signoff(session, _signoff(checklist, user))
            results[user] = "won"
        except repo.AlreadySigned:
            results[user] = "refused"

    threads = [threading.Thread(target=insert, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["refused"] * 5 + ["won"], results
    with read_scope(engine) as session:
        assert len([s for s in repo.signoffs(session, checklist) if s.undone_at is None]) == 1


def test_events_are_numbered_once_per_checklist(engine: Engine) -> None:
    checklist = _checklist(engine)

    def event(seq: int) -> ChecklistEvent:
        return ChecklistEvent(
            checklist_id=checklist,
            seq=seq,
            kind="note",
            actor="U1",
            at=utcnow(),
            prev_hash="0",
            hash=str(seq),
        )

    with session_scope(engine) as session:
        row = repo.get(session, checklist)
        assert row is not None
        repo.append_event(session, row, event(1))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        row = repo.get(session, checklist)
        assert row is not None
        repo.append_event(session, row, event(1))
    with read_scope(engine) as session:
        assert [e.seq for e in repo.events(session, checklist)] == [1]
        row = repo.get(session, checklist)
        assert row is not None and (row.events, row.head_hash) == (1, "1")
