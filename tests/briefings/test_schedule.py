"""Recurrences and lead times across daylight-saving changes (New York, Berlin) and in Seoul (no DST)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from bot.briefings.cron import CronRule
from bot.briefings.plan import Firing, Plan
from bot.briefings.when import Schedule, parse_leads, parse_when
from bot.i18n import Translator


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _starts(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    found, moment = [], after
    for _ in range(count):
        nxt = schedule.next_start(moment)
        assert nxt is not None
        found.append(nxt)
        moment = nxt
    return found


def _wall(moments: list[datetime], zone: str) -> list[str]:
    return [m.astimezone(ZoneInfo(zone)).strftime("%a %m-%d %H:%M %Z") for m in moments]


@freeze_time("2024-03-08 12:00:00")
def test_a_daily_new_york_briefing_keeps_its_wall_time_across_spring_forward(t: Translator) -> None:
    schedule = parse_when(t, "every day 09:30", "America/New_York")
    starts = _starts(schedule, datetime.now(UTC), 4)
    assert _wall(starts, "America/New_York") == [
        "Fri 03-08 09:30 EST",
        "Sat 03-09 09:30 EST",
        "Sun 03-10 09:30 EDT",
        "Mon 03-11 09:30 EDT",
    ]
    assert [s.hour for s in starts] == [14, 14, 13, 13]  # one hour earlier in UTC after the change


@freeze_time("2024-10-25 12:00:00")
def test_a_berlin_weekday_briefing_keeps_its_wall_time_across_fall_back(t: Translator) -> None:
    schedule = parse_when(t, "every weekday 10:00", "Europe/Berlin")
    starts = _starts(schedule, datetime.now(UTC), 3)
    assert _wall(starts, "Europe/Berlin") == [
        "Mon 10-28 10:00 CET",
        "Tue 10-29 10:00 CET",
        "Wed 10-30 10:00 CET",
    ]
    before = parse_when(t, "every fri 10:00", "Europe/Berlin").next_start(_utc(2024, 10, 24))
    assert before == _utc(2024, 10, 25, 8, 0)  # CEST, UTC+2, the Friday before the change
    assert starts[0] == _utc(2024, 10, 28, 9, 0)  # CET, UTC+1


@freeze_time("2024-03-08 12:00:00")
def test_a_skipped_wall_time_fires_shifted_by_the_skipped_hour_once(t: Translator) -> None:
    schedule = parse_when(t, "every day 02:30", "America/New_York")
    starts = _starts(schedule, datetime.now(UTC), 3)
    assert _wall(starts, "America/New_York") == [
        "Sat 03-09 02:30 EST",
        "Sun 03-10 03:30 EDT",
        "Mon 03-11 02:30 EDT",
    ]


@freeze_time("2024-11-01 12:00:00")
def test_a_repeated_wall_time_fires_once_the_first_time(t: Translator) -> None:
    schedule = parse_when(t, "every day 01:30", "America/New_York")
    starts = _starts(schedule, datetime.now(UTC), 3)
    assert _wall(starts, "America/New_York") == [
        "Sat 11-02 01:30 EDT",
        "Sun 11-03 01:30 EDT",
        "Mon 11-04 01:30 EST",
    ]


def test_a_half_hourly_rule_stays_in_order_through_the_spring_gap() -> None:
    rule = CronRule.parse("*/30 1-3 10 3 *")
    zone, moment, seen = ZoneInfo("America/New_York"), _utc(2024, 3, 10, 0, 0), []
    while (moment := rule.next_after(moment, zone)) is not None and moment.year == 2024:  # type: ignore[assignment]
        seen.append(moment)
    assert seen == sorted(set(seen))
    assert _wall(seen, "America/New_York") == [
        "Sun 03-10 01:00 EST",
        "Sun 03-10 01:30 EST",
        "Sun 03-10 03:00 EDT",
        "Sun 03-10 03:30 EDT",
    ]


@freeze_time("2024-12-12 03:00:00")
def test_seoul_has_no_daylight_saving_so_utc_times_never_move(t: Translator) -> None:
    schedule = parse_when(t, "every mon,thu 10:00", "Asia/Seoul")
    starts = _starts(schedule, _utc(2024, 3, 1), 60)
    assert {s.hour for s in starts} == {1}
    assert {s.astimezone(ZoneInfo("Asia/Seoul")).strftime("%a") for s in starts} == {"Mon", "Thu"}


@freeze_time("2024-12-12 03:00:00")
def test_cron_day_of_month_and_weekday_match_either_one_like_cron(t: Translator) -> None:
    schedule = parse_when(t, "", "Asia/Seoul", cron="0 9 1 * mon")
    starts = _starts(schedule, _utc(2024, 12, 28), 3)
    days = [s.astimezone(ZoneInfo("Asia/Seoul")).strftime("%a %d") for s in starts]
    assert days == ["Mon 30", "Wed 01", "Mon 06"]


def test_lead_time_reminders_come_before_each_start_and_the_start_last(t: Translator) -> None:
    at = _utc(2024, 12, 12, 7, 0)
    plan = Plan(Schedule(zone="Asia/Seoul", at=at), parse_leads(t, "30m,5m"))
    due = list(plan.due(_utc(2024, 12, 12, 0, 0), _utc(2024, 12, 13)))
    assert due == [
        Firing(_utc(2024, 12, 12, 6, 30), 1800, at),
        Firing(_utc(2024, 12, 12, 6, 55), 300, at),
        Firing(at, 0, at),
    ]
    assert plan.next_firing(at) is None


def test_reminders_already_past_at_creation_are_skipped_not_posted(t: Translator) -> None:
    at = _utc(2024, 12, 12, 7, 0)
    plan = Plan(Schedule(zone="Asia/Seoul", at=at), parse_leads(t, "1h,5m"))
    assert plan.next_firing(_utc(2024, 12, 12, 6, 30)) == Firing(_utc(2024, 12, 12, 6, 55), 300, at)


def test_a_lead_longer_than_the_gap_interleaves_with_the_previous_start(t: Translator) -> None:
    plan = Plan(Schedule(zone="Asia/Seoul", rule="0 10 * * *"), parse_leads(t, "1d"))
    firings = list(plan.due(_utc(2024, 12, 12, 0, 0), _utc(2024, 12, 13, 1, 0)))
    assert [(f.fire_at, f.lead) for f in firings] == [
        (_utc(2024, 12, 12, 1, 0), 0),
        (_utc(2024, 12, 13, 1, 0), 0),
    ]  # the 1 d reminder falls on a start


def test_reminders_of_a_recurring_briefing_follow_dst(t: Translator) -> None:
    plan = Plan(
        parse_when(t, "", "Europe/Berlin", now=_utc(2024, 3, 29), cron="0 9 * * *"), parse_leads(t, "15m")
    )
    firings = list(plan.due(_utc(2024, 3, 30), _utc(2024, 4, 1)))
    assert _wall([f.fire_at for f in firings], "Europe/Berlin") == [
        "Sat 03-30 08:45 CET",
        "Sat 03-30 09:00 CET",
        "Sun 03-31 08:45 CEST",
        "Sun 03-31 09:00 CEST",
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Asia/Seoul"])
def test_a_year_of_weekday_starts_all_fall_on_the_wall_time(zone: str) -> None:
    schedule = Schedule(zone=zone, rule="30 9 * * mon-fri")
    starts = _starts(schedule, _utc(2024, 1, 1), 262)
    assert {s.astimezone(ZoneInfo(zone)).strftime("%H:%M") for s in starts} == {"09:30"}
    assert len(set(starts)) == 262
