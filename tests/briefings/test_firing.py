"""Claiming firings in the database: exactly once under racing schedulers, late or missed after downtime.

Runs on SQLite and PostgreSQL (the `brief_engine` fixture); time is an explicit clock, not the wall.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.service import BriefingService, Draft, NothingLeft
from bot.briefings.when import Schedule
from bot.i18n import Translator
from bot.outbox import Outbox
from commands.briefings.publisher import SlackPublisher
from storage import briefings as repo
from storage.audit import Actor, Audit
from storage.briefings import Briefing, BriefingFiring
from storage.db import read_scope
from storage.outbox import OutboxMessage

START = datetime(2024, 12, 12, 7, 0, tzinfo=UTC)  # 16:00 in Seoul
GRACE = timedelta(minutes=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


AUDIT = Audit(Actor("UKIM"), "briefing.add")


def _service(engine: Engine, clock: Callable[[], datetime]) -> BriefingService:
    """The service with its real Slack publisher, writing to the outbox of `engine`."""
    return BriefingService(
        engine, clock, SlackPublisher(Translator("en"), Outbox(engine, lambda: None, clock))
    )


def _scheduler(engine: Engine, clock: Callable[[], datetime], worker: str = "w1") -> BriefingScheduler:
    return BriefingScheduler(
        BackgroundScheduler(timezone="UTC"), _service(engine, clock), grace=GRACE, worker=worker
    )


def _add(engine: Engine, clock: Clock, schedule: Schedule, leads: tuple[int, ...] = (1800, 300)) -> int:
    briefing = _service(engine, clock).add(
        Draft(
            title="Cross-team briefing", schedule=schedule, channel_id="C0OPS", created_by="UKIM", leads=leads
        ),
        AUDIT,
    )
    assert briefing.id is not None
    return briefing.id


def _posts(engine: Engine) -> list[str]:
    with read_scope(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id))  # type: ignore[arg-type]
        return [json.loads(m.payload)["text"] for m in rows]


def _firings(engine: Engine, briefing_id: int) -> list[tuple[datetime, int, str]]:
    with read_scope(engine) as session:
        return [(repo.as_utc(f.fire_at), f.lead, f.status) for f in repo.firings_of(session, briefing_id)]


def _job_ids(scheduler: BriefingScheduler) -> list[str]:
    """The APScheduler jobs themselves, not the scheduler's own map of them."""
    return sorted(job.id for job in scheduler._scheduler.get_jobs() if job.id.startswith("briefing:"))


def test_each_due_firing_is_claimed_once_and_handed_to_the_outbox(brief_engine: Engine) -> None:
    clock = Clock(START - timedelta(hours=1))
    briefing_id = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START))
    scheduler = _scheduler(brief_engine, clock)
    clock.now = START - timedelta(minutes=30)
    outcome = scheduler.tick(briefing_id)
    assert (outcome.posted, outcome.next_fire_at) == (1, START - timedelta(minutes=5))
    assert scheduler.tick(briefing_id).posted == 0  # a repeated run of the same job posts nothing
    clock.now = START
    assert scheduler.tick(briefing_id).posted == 2  # the 5 min reminder and the start, both due now
    assert scheduler.tick(briefing_id).posted == 0
    posts = _posts(brief_engine)
    assert len(posts) == 3
    assert posts[0].startswith("⏰ *Cross-team briefing* starts in 30 min") and "starts now" in posts[2]
    assert [status for _, _, status in _firings(brief_engine, briefing_id)] == ["posted"] * 3
    assert scheduler.jobs() == {}  # nothing left to follow


def test_two_racing_schedulers_post_every_firing_exactly_once(brief_engine: Engine) -> None:
    clock = Clock(START - timedelta(hours=1))
    ids = [
        _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START + timedelta(minutes=i)), leads=(300,))
        for i in range(5)
    ]
    replicas = [_scheduler(brief_engine, clock, worker=f"replica-{n}") for n in range(2)]
    for replica in replicas:
        replica.start()  # both rebuilt from the database before the clock moved past the firings
    clock.now = START + timedelta(minutes=5)  # the reminder and start of all five are due, within grace
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def race(replica: BriefingScheduler) -> None:
        try:
            barrier.wait()
            for briefing_id in ids:
                replica.tick(briefing_id)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(replicas[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    posts = _posts(brief_engine)
    assert len(posts) == 5 * 2 and not any("late" in p for p in posts)
    with read_scope(brief_engine) as session:
        workers = set(session.exec(select(BriefingFiring.claimed_by)).all())
        count = session.exec(select(func.count()).select_from(BriefingFiring)).one()
    assert count == 10 and workers <= {"replica-0", "replica-1"}


def test_missed_while_down_is_posted_late_within_grace_and_recorded_missed_beyond(
    brief_engine: Engine,
) -> None:
    clock = Clock(START - timedelta(hours=2))
    briefing_id = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START), leads=(1800, 300))
    clock.now = START + timedelta(minutes=2)  # IRIS comes back: 30 min reminder 32 min ago, the rest recent
    scheduler = _scheduler(brief_engine, clock)
    scheduler.start()
    outcome = scheduler.tick(briefing_id)
    assert (outcome.posted, outcome.late, outcome.missed) == (0, 2, 1)
    assert _firings(brief_engine, briefing_id) == [
        (START - timedelta(minutes=30), 1800, "missed"),
        (START - timedelta(minutes=5), 300, "late"),
        (START, 0, "late"),
    ]
    posts = _posts(brief_engine)
    assert len(posts) == 2 and all("_Posted late: IRIS was not running at" in p for p in posts)


def test_start_rebuilds_one_job_per_briefing_with_stable_ids(brief_engine: Engine) -> None:
    clock = Clock(START - timedelta(hours=1))
    first = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START))
    second = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", rule="30 9 * * mon-fri"), leads=())
    ids = []
    for _ in range(2):  # two starts of IRIS build the same jobs
        scheduler = _scheduler(brief_engine, clock)
        assert scheduler.start() == 2
        ids.append(_job_ids(scheduler))
    reminder = int((START - timedelta(minutes=30)).timestamp())
    monday = int(datetime(2024, 12, 13, 0, 30, tzinfo=UTC).timestamp())  # Friday 09:30 KST
    assert ids[0] == ids[1] == sorted([f"briefing:{first}:{reminder}", f"briefing:{second}:{monday}"])


def test_edits_and_cancels_move_the_jobs_without_a_restart(brief_engine: Engine) -> None:
    clock = Clock(START - timedelta(hours=1))
    service = _service(brief_engine, clock)
    briefing_id = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START))
    scheduler = _scheduler(brief_engine, clock)
    scheduler.start()
    service.watch(scheduler.follow)
    later = START + timedelta(days=1)
    service.edit(briefing_id, {"schedule": Schedule(zone="Asia/Seoul", at=later), "leads": ()}, AUDIT)
    assert scheduler.jobs() == {briefing_id: f"briefing:{briefing_id}:{int(later.timestamp())}"}
    assert _job_ids(scheduler) == [f"briefing:{briefing_id}:{int(later.timestamp())}"]
    service.cancel(briefing_id, AUDIT)
    assert scheduler.jobs() == {}
    assert _job_ids(scheduler) == []


def test_a_stale_job_from_before_an_edit_posts_nothing(brief_engine: Engine) -> None:
    clock = Clock(START - timedelta(hours=1))
    service = _service(brief_engine, clock)
    briefing_id = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START), leads=())
    service.edit(briefing_id, {"schedule": Schedule(zone="Asia/Seoul", at=START + timedelta(hours=3))}, AUDIT)
    clock.now = START  # the job another replica still holds for the old time runs
    outcome = _scheduler(brief_engine, clock).tick(briefing_id)
    assert (outcome.posted, outcome.next_fire_at) == (0, START + timedelta(hours=3))
    assert _posts(brief_engine) == []


def test_a_recurring_briefing_moves_its_cursor_to_the_next_occurrence(brief_engine: Engine) -> None:
    clock = Clock(datetime(2024, 12, 12, 0, 0, tzinfo=UTC))  # Thursday 09:00 KST
    briefing_id = _add(brief_engine, clock, Schedule(zone="Asia/Seoul", rule="30 9 * * mon-fri"), leads=())
    scheduler = _scheduler(brief_engine, clock)
    clock.now = datetime(2024, 12, 12, 0, 30, tzinfo=UTC)
    assert scheduler.tick(briefing_id).next_fire_at == datetime(2024, 12, 13, 0, 30, tzinfo=UTC)
    clock.now = datetime(2024, 12, 13, 0, 30, tzinfo=UTC)
    assert scheduler.tick(briefing_id).next_fire_at == datetime(2024, 12, 16, 0, 30, tzinfo=UTC)
    assert len(_posts(brief_engine)) == 2


def test_a_batch_that_meets_a_concurrent_edit_keeps_nothing_and_is_claimed_again(
    brief_engine: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(START - timedelta(hours=1))
    ids = [_add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START), leads=()) for _ in range(3)]
    scheduler = _scheduler(brief_engine, clock)
    scheduler.start()
    clock.now = START
    real_advance, calls = repo.advance_many, []

    def edited_meanwhile(session, cursors):  # type: ignore[no-untyped-def]
        calls.append(len(cursors))
        return False if len(calls) == 1 else real_advance(session, cursors)

    monkeypatch.setattr(repo, "advance_many", edited_meanwhile)
    with scheduler._pending_lock:  # three jobs due together, queued before one of them takes the turn
        scheduler._pending.update(ids[1:])
    assert scheduler.tick(ids[0]).posted == 1
    assert calls == [3, 1, 1, 1]  # the batch was rolled back, then each briefing claimed on its own
    assert len(_posts(brief_engine)) == 3
    assert all(_firings(brief_engine, i) == [(START, 0, "posted")] for i in ids)


def test_a_briefing_whose_time_passed_before_it_was_saved_is_refused_not_kept(brief_engine: Engine) -> None:
    clock = Clock(START + timedelta(seconds=1))  # parsed as "in 1s" a moment ago; the moment is gone
    with pytest.raises(NothingLeft):
        _add(brief_engine, clock, Schedule(zone="Asia/Seoul", at=START), leads=())
    with read_scope(brief_engine) as session:
        assert session.exec(select(func.count()).select_from(Briefing)).one() == 0
