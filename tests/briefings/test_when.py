"""Every `<when>` form, read on a frozen clock in the team's time zone; past and bad input get sentences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.briefings.when import Schedule, parse_duration, parse_leads, parse_when
from bot.errors import UserError
from bot.i18n import Translator

SEOUL, NEW_YORK, BERLIN = "Asia/Seoul", "America/New_York", "Europe/Berlin"


@freeze_time("2024-12-12 03:00:00")  # 12:00 in Seoul, Thursday
def test_a_date_and_time_is_read_on_the_team_clock(t: Translator) -> None:
    schedule = parse_when(t, "2024-12-12 16:00", SEOUL)
    assert schedule == Schedule(zone=SEOUL, at=datetime(2024, 12, 12, 7, 0, tzinfo=UTC))
    assert not schedule.recurring


@freeze_time("2024-12-12 03:00:00")
def test_the_same_wall_time_means_different_instants_in_different_zones(t: Translator) -> None:
    assert parse_when(t, "2024-12-13 16:00", NEW_YORK).at == datetime(2024, 12, 13, 21, 0, tzinfo=UTC)
    assert parse_when(t, "2024-12-13 16:00", BERLIN).at == datetime(2024, 12, 13, 15, 0, tzinfo=UTC)


@freeze_time("2024-12-12 03:00:00")
def test_today_and_tomorrow_follow_the_team_date(t: Translator) -> None:
    assert parse_when(t, "today 16:00", SEOUL).at == datetime(2024, 12, 12, 7, 0, tzinfo=UTC)
    assert parse_when(t, "Tomorrow 09:30", SEOUL).at == datetime(2024, 12, 13, 0, 30, tzinfo=UTC)


@freeze_time("2024-12-11 23:30:00")  # still the 11th in UTC, already the 12th (08:30) in Seoul
def test_today_is_the_team_date_not_the_utc_date(t: Translator) -> None:
    assert parse_when(t, "today 09:00", SEOUL).at == datetime(2024, 12, 12, 0, 0, tzinfo=UTC)
    assert parse_when(t, "today 19:00", NEW_YORK).at == datetime(2024, 12, 12, 0, 0, tzinfo=UTC)


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("in 2h", timedelta(hours=2)),
        ("in 30m", timedelta(minutes=30)),
        ("in 1h30m", timedelta(minutes=90)),
        ("in 2d", timedelta(days=2)),
        ("in 45s", timedelta(seconds=45)),
    ],
)
def test_in_a_duration_counts_from_now(t: Translator, text: str, delta: timedelta) -> None:
    assert parse_when(t, text, SEOUL).at == datetime(2024, 12, 12, 3, 0, tzinfo=UTC) + delta


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("every weekday 09:30", "30 9 * * mon-fri"),
        ("every mon,thu 10:00", "0 10 * * mon,thu"),
        ("every day 08:00", "0 8 * * *"),
        ("every friday 17:05", "5 17 * * fri"),
    ],
)
def test_every_becomes_a_rule_on_the_team_clock(t: Translator, text: str, rule: str) -> None:
    schedule = parse_when(t, text, SEOUL)
    assert schedule == Schedule(zone=SEOUL, rule=rule) and schedule.recurring


@freeze_time("2024-12-12 03:00:00")  # Thursday 12:00 in Seoul
def test_every_weekday_starts_at_the_next_working_morning(t: Translator) -> None:
    schedule = parse_when(t, "every weekday 09:30", SEOUL)
    now = datetime.now(UTC)
    first = schedule.next_start(now)
    assert first == datetime(2024, 12, 13, 0, 30, tzinfo=UTC)  # Friday 09:30 KST
    assert schedule.next_start(first) == datetime(2024, 12, 16, 0, 30, tzinfo=UTC)  # Monday, not Saturday


@freeze_time("2024-12-12 03:00:00")
def test_a_cron_rule_is_accepted_and_normalised(t: Translator) -> None:
    schedule = parse_when(t, "", SEOUL, cron="0 16 * * 1-5")
    assert schedule.rule == "0 16 * * 1-5"
    assert schedule.next_start(datetime.now(UTC)) == datetime(2024, 12, 12, 7, 0, tzinfo=UTC)


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize("text", ["2024-12-11 16:00", "today 11:59", "today 12:00"])
def test_a_past_time_is_refused_with_the_current_team_time_and_examples(t: Translator, text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(t, text, SEOUL)
    assert "is in the past (it is now 2024-12-12 12:00 in Asia/Seoul)" in caught.value.sentence
    assert "`every weekday 09:30`" in caught.value.sentence


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("someday", "IRIS cannot read `someday` as a time."),
        ("2024-02-30 10:00", "is not a date on the calendar"),
        ("today 24:00", "is not a time of day"),
        ("today 9:75", "is not a time of day"),
        ("every blursday 10:00", "`blursday` is not a day"),
        ("every mo 10:00", "`mo` is not a day"),
        ("in 0m", "is not a usable duration"),
        ("in soon", "`soon` is not a duration"),
        ("in 9999999999d", "is not a usable duration"),
        ("in 99999999999999999999h", "is not a usable duration"),
        ("", "IRIS cannot read"),
        ("<@U123> 16:00", "IRIS cannot read `&lt;@U123&gt; 16:00`"),
    ],
)
def test_bad_input_gets_a_sentence(t: Translator, text: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(t, text, SEOUL)
    assert expected in caught.value.sentence


@freeze_time("2024-12-12 03:00:00")
def test_a_date_at_the_end_of_the_calendar_gets_a_sentence_not_an_overflow(t: Translator) -> None:
    with pytest.raises(UserError, match="is not a date on the calendar"):
        parse_when(t, "9999-12-31 23:00", NEW_YORK)  # 04:00 on 1 January 10000 in UTC


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 16 * *", "five fields"),
        ("61 16 * * *", "minute field `61` must stay within 0-59"),
        ("0 16 * * funday", "neither a number nor a name"),
        ("0 16 31 2 *", "does not happen in the next five years"),
    ],
)
def test_bad_cron_rules_are_explained(t: Translator, cron: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_when(t, "", SEOUL, cron=cron)
    assert expected in caught.value.sentence


@freeze_time("2024-12-12 03:00:00")
def test_a_time_and_a_cron_rule_together_are_refused(t: Translator) -> None:
    with pytest.raises(UserError, match="either a time or `cron=…`"):
        parse_when(t, "today 16:00", SEOUL, cron="0 16 * * *")


def test_an_explicit_now_overrides_the_clock(t: Translator) -> None:
    now = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
    assert parse_when(t, "in 1h", SEOUL, now=now).at == now + timedelta(hours=1)


def test_lead_times_are_sorted_largest_first_and_deduplicated(t: Translator) -> None:
    assert parse_leads(t, "5m,30m,5m") == (1800, 300)
    assert parse_leads(t, "1d,2h") == (86400, 7200)
    assert parse_leads(t, "none") == ()


@pytest.mark.parametrize("text", ["", "31d", "1m,2m,3m,4m,5m,6m", "5x", "-5m", "99999999999d"])
def test_bad_lead_times_are_refused(t: Translator, text: str) -> None:
    with pytest.raises(UserError):
        parse_leads(t, text)


def test_durations_combine_units(t: Translator) -> None:
    assert parse_duration(t, "1d2h3m4s") == timedelta(days=1, hours=2, minutes=3, seconds=4)


@freeze_time("2024-12-12 03:00:00")
@pytest.mark.parametrize("cron", ["* * * * *", "*/5 9-17 * * *", "0,5 9 * * *"])
def test_a_rule_repeating_more_often_than_every_15_minutes_is_refused(t: Translator, cron: str) -> None:
    with pytest.raises(UserError, match="repeats more often than every 15 minutes"):
        parse_when(t, "", SEOUL, cron=cron)


@pytest.mark.parametrize("text", ["500ms", "1.5s", "0.5m0.2s"])
def test_a_reminder_or_start_is_a_whole_number_of_seconds_away(t: Translator, text: str) -> None:
    with pytest.raises(UserError, match="is not a usable duration"):
        parse_duration(t, text)
    with pytest.raises(UserError, match="is not a usable duration"):
        parse_leads(t, f"30m,{text}")


def test_decimal_amounts_that_make_whole_seconds_are_read_as_written(t: Translator) -> None:
    assert parse_duration(t, "1.5h") == timedelta(minutes=90)
    assert parse_leads(t, "0.5m,1.5m") == (90, 30)
