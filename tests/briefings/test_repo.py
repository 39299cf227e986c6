"""The briefing repository on SQLite and PostgreSQL: claims, cursors, answers, `done` and milestones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.briefings.service import Occurrence
from commands.briefings.views import render_list
from storage import briefings as repo
from storage.briefings import Briefing, BriefingFiring
from storage.db import read_scope, session_scope

AT = datetime(2024, 12, 17, 1, 0, tzinfo=UTC)


def _briefing(engine: Engine, kind: str = "briefing", attendees: tuple[str, ...] = ()) -> Briefing:
    with session_scope(engine) as session:
        return repo.create(
            session,
            Briefing(
                title="Production deploy",
                kind=kind,
                channel_id="C0OPS",
                zone="Asia/Seoul",
                starts_at=AT,
                next_fire_at=AT,
                attendees=json.dumps(list(attendees)),
            ),
        )


def _claim(engine: Engine, briefing_id: int, fire_at: datetime, worker: str) -> list[BriefingFiring]:
    claim = {
        "briefing_id": briefing_id,
        "fire_at": fire_at,
        "occurrence_at": AT,
        "lead": 0,
        "status": "posted",
    }
    with session_scope(engine) as session:
        return repo.claim_many(session, [claim], worker, fire_at)


def test_a_firing_is_won_by_the_first_claim_only(brief_engine: Engine) -> None:
    briefing = _briefing(brief_engine)
    assert briefing.id is not None
    [won] = _claim(brief_engine, briefing.id, AT, "replica-a")
    assert (won.briefing_id, won.claimed_by, repo.as_utc(won.fire_at)) == (briefing.id, "replica-a", AT)
    assert _claim(brief_engine, briefing.id, AT, "replica-b") == []
    assert len(_claim(brief_engine, briefing.id, AT + timedelta(days=1), "replica-b")) == 1


def test_a_cursor_read_before_an_edit_cannot_be_moved(brief_engine: Engine) -> None:
    briefing = _briefing(brief_engine)
    assert briefing.id is not None
    with session_scope(brief_engine) as session:
        repo.edit(session, briefing.id, {"title": "Production deploy (moved)"})
    with session_scope(brief_engine) as session:
        assert not repo.advance_many(session, [(briefing.id, briefing.version, None)])
        assert repo.advance_many(session, [(briefing.id, briefing.version + 1, AT + timedelta(days=1))])
    with read_scope(brief_engine) as session:
        stored = repo.get(session, briefing.id)
    assert stored is not None and repo.as_utc(stored.next_fire_at) == AT + timedelta(days=1)  # type: ignore[arg-type]


def test_answers_change_with_the_last_click_and_done_is_recorded_once(brief_engine: Engine) -> None:
    briefing = _briefing(brief_engine, attendees=("UKIM", "ULEE", "UPARK"))
    assert briefing.id is not None
    [start] = _claim(brief_engine, briefing.id, AT, "w")
    with session_scope(brief_engine) as session:
        repo.record_answer(session, briefing.id, AT, "UKIM", repo.ABSENT, AT)
        repo.record_answer(session, briefing.id, AT, "UKIM", repo.ATTENDING, AT)  # changed their mind
        repo.record_answer(session, briefing.id, AT, "UOUT", repo.ABSENT, AT)  # not invited, still absent
        answers = repo.answers(session, briefing.id, AT)
        assert start.id is not None
        assert repo.mark_done(session, start.id, "UKIM", AT)
        assert not repo.mark_done(session, start.id, "ULEE", AT)
    assert answers == {"UKIM": "attending", "UOUT": "absent"}
    assert Occurrence(briefing, start, answers).absentees == ["ULEE", "UPARK", "UOUT"]


def test_cancelled_briefings_leave_the_schedule(brief_engine: Engine) -> None:
    first, second = _briefing(brief_engine), _briefing(brief_engine, kind="milestone")
    assert first.id is not None and second.id is not None
    with session_scope(brief_engine) as session:
        assert repo.cancel(session, first.id)
        assert not repo.cancel(session, first.id)  # a second cancel changes nothing
        rows = repo.schedule_rows(session)
        milestones = repo.milestones_between(session, AT - timedelta(days=1), AT + timedelta(days=1))
    assert rows == [(second.id, AT)]
    assert [m.id for m in milestones] == [second.id]


def test_answers_are_read_for_the_occurrences_asked_only(brief_engine: Engine) -> None:
    first, second = _briefing(brief_engine), _briefing(brief_engine)
    assert first.id is not None and second.id is not None
    later = AT + timedelta(days=1)
    with session_scope(brief_engine) as session:
        for briefing_id, occurrence, user in [
            (first.id, AT, "UKIM"),
            (first.id, later, "ULEE"),
            (second.id, AT, "UPARK"),
            (second.id, later, "UCHOI"),
        ]:
            repo.record_answer(session, briefing_id, occurrence, user, repo.ATTENDING, AT)
    with read_scope(brief_engine) as session:
        found = repo.answers_for(session, [(first.id, AT), (second.id, later)])
        assert repo.answers_for(session, []) == {}
    assert found == {(first.id, AT): {"UKIM": "attending"}, (second.id, later): {"UCHOI": "attending"}}


def test_upcoming_lists_the_soonest_and_counts_them_all(brief_engine: Engine, t) -> None:
    ids = [_briefing(brief_engine).id for _ in range(3)]
    with session_scope(brief_engine) as session:
        assert repo.cancel(session, ids[0])
        shown, total = repo.upcoming(session, limit=1)
    assert ([b.id for b in shown], total) == ([ids[1]], 2)
    listing = render_list(t, shown, AT - timedelta(days=1), total=total)
    assert listing.endswith("…and 1 more further ahead.")
    assert "more further ahead" not in render_list(t, shown, AT - timedelta(days=1), total=1)
