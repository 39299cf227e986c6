"""`/iris brief` through the command's own functions: every message of an occurrence shows every answer,
a title never reaches a reply unescaped, and a change commits with its audit record or not at all.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.service import AlreadyDone, BriefingService, Draft, Occurrence, WrapUp
from bot.briefings.when import Schedule
from bot.deps import Deps
from bot.runtime import build_deps
from commands.briefings.actions import add, answered, cancel, edit
from commands.briefings.parse import EditArgs
from commands.briefings.views import ABSENT_ACTION, ATTEND_ACTION
from commands.kit import Invocation
from commands.registry import load_config
from storage import audit
from storage import briefings as repo
from storage.audit import Actor, Audit
from storage.briefings import Briefing, BriefingFiring
from storage.db import read_scope, session_scope
from storage.outbox import OutboxMessage

START = datetime(2024, 12, 12, 7, 0, tzinfo=UTC)
FORGED = "<!channel> <https://evil.example|Click to confirm>"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START - timedelta(hours=1))


@pytest.fixture
def deps(brief_engine: Engine, clock: Clock, tmp_path: Path) -> Iterator[Deps]:
    (tmp_path / "iris.yml").write_text("channels:\n  default: C0OPS\n")
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "IRIS_CONFIG": str(tmp_path / "iris.yml"),
        }
    )
    built, poster = build_deps(config, brief_engine, clock=clock)
    yield built
    poster.close()
    built.slack.close()


def _invocation(user: str) -> Invocation:
    return Invocation(
        user_id=user,
        team_id="T0",
        channel_id="C0OPS",
        response_url=f"https://hooks.example/{user}",
        trigger_id=None,
        subcommand="brief",
        rest="",
    )


def _audit(user: str, action: str) -> Audit:
    return Audit(Actor(user, "T0", "C0OPS"), action)


def _click(deps: Deps, user: str, firing_id: int, answer: str) -> object:
    action = {
        "action_id": ATTEND_ACTION if answer == repo.ATTENDING else ABSENT_ACTION,
        "value": str(firing_id),
    }
    return answered(deps, _invocation(user), action)


def _posted_briefing(deps: Deps, clock: Clock, title: str = "Deploy briefing") -> tuple[int, int, int]:
    """A briefing whose 5 min reminder and start message are both posted: (id, reminder, start)."""
    briefing = deps.service(BriefingService).add(
        Draft(
            title=title,
            schedule=Schedule(zone="Asia/Seoul", at=START),
            channel_id="C0OPS",
            created_by="UKIM",
            leads=(300,),
            attendees=("UKIM", "ULEE", "UPARK"),
        ),
        _audit("UKIM", "briefing.add"),
    )
    assert briefing.id is not None
    scheduler = BriefingScheduler(
        BackgroundScheduler(timezone="UTC"),
        deps.service(BriefingService),
        grace=timedelta(minutes=10),
        worker="w",
    )
    for clock.now in (START - timedelta(minutes=5), START):
        scheduler.tick(briefing.id)
    with read_scope(deps.engine) as session:
        reminder, start = repo.firings_of(session, briefing.id)
    assert reminder.id is not None and start.id is not None
    return briefing.id, reminder.id, start.id


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with read_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def _last_shown(engine: Engine) -> dict[int, str]:
    """Each updated message → the answers its latest update shows."""
    shown: dict[int, str] = {}
    for row in _outbox(engine):
        if row.kind == "update" and row.ref_id is not None:
            blocks = json.loads(row.payload)["blocks"]
            shown[row.ref_id] = next(b["elements"][0]["text"] for b in blocks if b["type"] == "context")
    return shown


def test_a_click_on_either_message_updates_every_message_of_the_occurrence(deps: Deps, clock: Clock) -> None:
    briefing_id, reminder, start = _posted_briefing(deps, clock)
    _click(deps, "UKIM", start, repo.ATTENDING)
    _click(deps, "ULEE", reminder, repo.ABSENT)  # the earlier message
    both = "Attending: <@UKIM> · Can't attend: <@ULEE> · No answer yet: <@UPARK>"
    with read_scope(deps.engine) as session:
        messages = {f.message_id for f in repo.firings_of(session, briefing_id)}
    assert len(messages) == 2 and set(_last_shown(deps.engine)) == messages
    assert set(_last_shown(deps.engine).values()) == {both}


def test_answer_and_cancel_replies_escape_the_title(deps: Deps, clock: Clock) -> None:
    briefing_id, _, start = _posted_briefing(deps, clock, title=FORGED)
    replies = [
        _click(deps, "ULEE", start, repo.ABSENT),
        cancel(deps, _invocation("UKIM"), briefing_id),
    ]
    texts = [reply.payload["body"]["text"] for reply in replies]  # type: ignore[attr-defined]
    assert all(
        "&lt;!channel&gt;" in text and "<!channel>" not in text and "<https://" not in text for text in texts
    )


def test_a_change_whose_audit_record_fails_is_not_kept(
    deps: Deps, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    briefing_id, _, _ = _posted_briefing(deps, clock)
    later = Schedule(zone="Asia/Seoul", at=START + timedelta(days=1))

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):  # the person gets an error reference and may simply try again
        add(deps, _invocation("UKIM"), {"title": "Retro", "schedule": later})
    with pytest.raises(RuntimeError):
        edit(deps, _invocation("UKIM"), EditArgs(briefing_id, {"schedule": later}))
    with pytest.raises(RuntimeError):
        cancel(deps, _invocation("UKIM"), briefing_id)
    with read_scope(deps.engine) as session:
        titles = [b.title for b in session.exec(select(Briefing)).all()]
        kept = repo.get(session, briefing_id)
    assert titles == ["Deploy briefing"]  # no second briefing a retry would duplicate
    assert kept is not None and (kept.status, kept.version, kept.next_fire_at) == (repo.ACTIVE, 1, None)


def test_a_click_made_while_another_is_being_recorded_waits_and_shows_both(deps: Deps, clock: Clock) -> None:
    """Without the lock, the second click commits first and the first one's update, queued last, hides it."""
    _, _, start = _posted_briefing(deps, clock)
    finished: list[str] = []
    others: list[threading.Thread] = []
    service = deps.service(BriefingService)
    slack = service.publisher

    def second_click() -> None:
        service.answer(start, repo.ABSENT, _audit("ULEE", "briefing.answer"))
        finished.append("ULEE")

    class SecondClickMeanwhile:
        """The first click's publisher: the second click arrives while the first holds its transaction."""

        def firing(self, *args: object) -> int:
            raise AssertionError("nothing fires here")

        def finished(self, *args: object) -> None:
            raise AssertionError("nothing finishes here")

        def answers_changed(
            self, session: Session, occurrence: Occurrence, messages: list[BriefingFiring]
        ) -> None:
            other = threading.Thread(target=second_click)
            others.append(other)
            other.start()
            other.join(timeout=1)  # it must be held back until this transaction commits
            finished.append("UKIM")
            slack.answers_changed(session, occurrence, messages)

    first = BriefingService(deps.engine, clock, SecondClickMeanwhile())
    first.answer(start, repo.ATTENDING, _audit("UKIM", "briefing.answer"))
    others[0].join()
    assert finished == ["UKIM", "ULEE"]
    both = "Attending: <@UKIM> · Can't attend: <@ULEE> · No answer yet: <@UPARK>"
    assert set(_last_shown(deps.engine).values()) == {both}


def test_done_racing_another_done_names_who_did_it(
    deps: Deps, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if deps.engine.dialect.name == "sqlite":
        pytest.skip("SQLite's write transactions run one at a time: the second reads the first's result")
    briefing_id, _, _ = _posted_briefing(deps, clock)
    real_mark_done = repo.mark_done

    def beaten(session: Session, firing_id: int, user_id: str, now: datetime) -> bool:
        with session_scope(deps.engine) as other:  # another replica's `done` commits in between
            real_mark_done(other, firing_id, "ULEE", now)
        return real_mark_done(session, firing_id, user_id, now)

    monkeypatch.setattr(repo, "mark_done", beaten)
    with pytest.raises(AlreadyDone) as caught:
        deps.service(BriefingService).finish(briefing_id, WrapUp(), _audit("UKIM", "briefing.done"))
    assert caught.value.by == "ULEE"
