"""The scheduled daily post on SQLite and PostgreSQL: once a day across replicas and restarts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import select

from bot.outbox import Outbox
from bot.reports.schedule import JOB, DailyPost
from bot.reports.service import ReportService
from bot.reports.settings import ReportsConfig
from commands.reports.publisher import SlackPublisher
from storage import reports as repo
from storage.db import read_scope
from storage.outbox import OutboxMessage
from tests.reports.conftest import DAY, ZONE, Recorder, at

SETTINGS = ReportsConfig(daily_at="18:00", author="Kang Cheol-su", grace_seconds=600)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _replica(engine: Engine, clock: Clock, worker: str) -> DailyPost:
    service = ReportService(
        engine, ZONE, SETTINGS, clock, publisher=SlackPublisher(Outbox(engine, lambda: None))
    )
    return DailyPost(service, BackgroundScheduler(timezone="UTC"), "C0REP", worker=worker)


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with read_scope(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


def test_the_report_is_posted_once_at_its_time_with_its_files_in_its_thread(
    engine: Engine, recorder: Recorder
) -> None:
    recorder.note("goal", "Rehearse v1.2 before production")
    clock = Clock(at(17, 59))
    first, second = _replica(engine, clock, "replica-a"), _replica(engine, clock, "replica-b")
    assert first.post_due() is None  # not yet
    clock.now = at(18, 0)
    assert [first.post_due(), second.post_due(), first.post_due()] == ["posted", None, None]
    post, *files = _outbox(engine)
    assert (post.kind, post.lane, post.source) == ("post", "C0REP", "report")
    assert "Rehearse v1.2 before production" in post.payload
    assert [(f.kind, f.ref_id, json.loads(f.payload)["filename"]) for f in files] == [
        ("upload", post.id, "report-2024-12-12-en.md"),
        ("upload", post.id, "report-2024-12-12-en.html"),
    ]
    with read_scope(engine) as session:
        row = repo.post_of(session, DAY)
    assert row is not None and (row.status, row.claimed_by, row.message_id) == (
        "posted",
        "replica-a",
        post.id,
    )


def test_a_post_missed_while_down_is_made_late_within_the_grace_and_recorded_missed_beyond(
    engine: Engine,
) -> None:
    late = _replica(engine, Clock(at(18, 9)), "after-a-restart")
    assert late.post_due() == "late" and len(_outbox(engine)) == 3
    tomorrow = DAY + timedelta(days=1)
    missed = _replica(engine, Clock(at(18, 11, day=tomorrow)), "after-a-long-outage")
    assert missed.post_due() == "missed" and len(_outbox(engine)) == 3  # recorded, not posted
    with read_scope(engine) as session:
        row = repo.post_of(session, tomorrow)
    assert row is not None and row.status == "missed" and row.message_id is None


def test_only_the_configured_days_get_a_post_and_start_schedules_one_job(engine: Engine) -> None:
    saturday = at(18, 0, day=DAY + timedelta(days=2))
    replica = _replica(engine, Clock(saturday), "weekend")
    assert replica.post_due() is None and _outbox(engine) == []
    replica.start()
    job = replica.scheduler.get_job(JOB)
    assert job is not None and str(job.trigger).startswith(
        "cron[day_of_week='mon,tue,wed,thu,fri', hour='18'"
    )
