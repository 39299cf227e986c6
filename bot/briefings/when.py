"""Reading `<when>` and lead times: one moment, or a recurrence as a cron rule, in the team's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.briefings.cron import DAY_NAMES, CronError, CronRule
from bot.durations import read_duration
from bot.errors import UserError
from bot.i18n import Translator

DATE_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})$")
DAY_TIME = re.compile(r"^(today|tomorrow)\s+(\d{1,2}):(\d{2})$")
EVERY = re.compile(r"^every\s+([a-z,]+)\s+(\d{1,2}):(\d{2})$")
IN = re.compile(r"^in\s+(\S+)$")
EVERY_DAYS = {"day": "*", "weekday": "mon-fri", "weekend": "sat,sun"}
DAY_NAMES_FULL = {
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}
MAX_AHEAD = timedelta(days=5 * 366)
MAX_LEAD = timedelta(days=30)
MIN_GAP = timedelta(minutes=15)
MAX_LEADS = 5
EXAMPLES = (
    "`{date} 16:00`, `today 16:00`, `tomorrow 09:30`, `in 2h`, `every weekday 09:30`, "
    '`every mon,thu 10:00`, `cron="0 16 * * 1-5"`'
)


def examples(now: datetime) -> str:
    """How times are written, with a dated example a week from `now`, so it can be typed as shown."""
    return EXAMPLES.format(date=(now + timedelta(days=7)).strftime("%Y-%m-%d"))


@dataclass(frozen=True)
class Schedule:
    """Either one moment (`at`, UTC) or a recurrence (`rule`, cron on the wall clock of `zone`)."""

    zone: str
    at: datetime | None = None
    rule: str | None = None

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after `after` (UTC), or None when there is no later one."""
        if self.at is not None:
            return self.at if self.at > after else None
        assert self.rule is not None
        return CronRule.parse(self.rule).next_after(after, ZoneInfo(self.zone))

    @property
    def recurring(self) -> bool:
        return self.rule is not None


def parse_when(
    t: Translator, text: str, zone: str, now: datetime | None = None, cron: str | None = None
) -> Schedule:
    """`<when>` as typed (or a `cron=` rule) → a Schedule whose next start is in the future.

    Raises UserError with examples when it does not parse, is in the past, or never happens.
    """
    moment = now or datetime.now(UTC)
    words = " ".join(text.lower().split())
    if cron is not None:
        if words:
            raise UserError(
                t(
                    "Give either a time or `cron=…`, not both. Times look like {examples}.",
                    examples=examples(moment),
                )
            )
        schedule = Schedule(zone=zone, rule=_cron(t, cron))
    else:
        schedule = _schedule(t, words, ZoneInfo(zone), moment, typed=text.strip())
    _check_future(t, schedule, text or cron or "", moment)
    return schedule


def _schedule(t: Translator, words: str, zone: ZoneInfo, now: datetime, typed: str) -> Schedule:
    local_today = now.astimezone(zone).date()
    if match := DATE_TIME.match(words):
        year, month, day, hour, minute = (int(g) for g in match.groups())
        return Schedule(zone=zone.key, at=_local(t, words, zone, now, year, month, day, hour, minute))
    if match := DAY_TIME.match(words):
        on = local_today + timedelta(days=1 if match.group(1) == "tomorrow" else 0)
        hour, minute = int(match.group(2)), int(match.group(3))
        return Schedule(
            zone=zone.key, at=_local(t, words, zone, now, on.year, on.month, on.day, hour, minute)
        )
    if match := IN.match(words):
        return Schedule(zone=zone.key, at=now + parse_duration(t, match.group(1)))
    if match := EVERY.match(words):
        days = _weekdays(t, match.group(1))
        hour, minute = _clock(t, words, int(match.group(2)), int(match.group(3)))
        return Schedule(zone=zone.key, rule=f"{minute} {hour} * * {days}")
    raise UserError(
        t(
            "IRIS cannot read `{when}` as a time. Times look like {examples} (in {zone}).",
            when=_quote(typed),
            examples=examples(now),
            zone=zone.key,
        )
    )


def _local(
    t: Translator,
    words: str,
    zone: ZoneInfo,
    now: datetime,
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
) -> datetime:
    hour, minute = _clock(t, words, hour, minute)
    try:
        wall = datetime.combine(date(year, month, day), time(hour, minute), tzinfo=zone)
        return wall.astimezone(UTC)
    except (ValueError, OverflowError):  # 31 February, or year 9999 pushed past the calendar by UTC
        raise UserError(
            t(
                "`{when}` is not a date on the calendar. Times look like {examples}.",
                when=_quote(words),
                examples=examples(now),
            )
        ) from None


def _clock(t: Translator, words: str, hour: int, minute: int) -> tuple[int, int]:
    if hour > 23 or minute > 59:
        raise UserError(
            t("`{when}` is not a time of day; use 24-hour times such as `16:00`.", when=_quote(words))
        )
    return hour, minute


def _weekdays(t: Translator, names: str) -> str:
    if names in EVERY_DAYS:
        return EVERY_DAYS[names]
    days = []
    for name in names.split(","):
        if len(name) < 3 or name[:3] not in DAY_NAMES or not DAY_NAMES_FULL[name[:3]].startswith(name):
            raise UserError(
                t("`{name}` is not a day; use `weekday`, `day` or days such as `mon,thu`.", name=_quote(name))
            )
        days.append(name[:3])
    return ",".join(days)


def _cron(t: Translator, expression: str) -> str:
    try:
        return CronRule.parse(expression).expression
    except CronError as exc:
        raise UserError(
            t(
                '`cron="{rule}"` is not a cron rule: {reason}. Example: `cron="0 16 * * 1-5"` '
                "(16:00 on weekdays).",
                rule=_quote(expression),
                reason=str(exc),
            )
        ) from None


def _check_future(t: Translator, schedule: Schedule, typed: str, now: datetime) -> None:
    first = schedule.next_start(now)
    if schedule.at is not None and schedule.at <= now:
        raise UserError(
            t(
                "`{when}` is in the past (it is now {now} in {zone}). Times look like {examples}.",
                when=_quote(typed),
                now=now.astimezone(ZoneInfo(schedule.zone)).strftime("%Y-%m-%d %H:%M"),
                zone=schedule.zone,
                examples=examples(now),
            )
        )
    if first is None or first - now > MAX_AHEAD:
        raise UserError(
            t(
                "`{when}` does not happen in the next five years; pick a nearer time such as {examples}.",
                when=_quote(typed),
                examples=examples(now),
            )
        )
    if schedule.recurring and _shortest_gap(schedule, first) < MIN_GAP:
        raise UserError(
            t(
                "`{when}` repeats more often than every 15 minutes, which would flood the channel; "
                "use a rule such as `every weekday 09:30`.",
                when=_quote(typed),
            )
        )


def _shortest_gap(schedule: Schedule, first: datetime, samples: int = 48) -> timedelta:
    """The shortest gap between the next starts (a rule like `0,5 9 * * *` is only dense at times)."""
    gaps, moment = [], first
    for _ in range(samples):
        following = schedule.next_start(moment)
        if following is None:
            break
        gaps.append(following - moment)
        moment = following
    return min(gaps, default=MAX_AHEAD)


def parse_duration(t: Translator, text: str) -> timedelta:
    """`2h`, `30m`, `1h30m`, `2d`, `45s` (IRIS's one grammar, bot/durations.py) → a positive timedelta."""
    seconds = read_duration(text)
    if not text.strip() or seconds is None:
        raise UserError(
            t(
                "`{text}` is not a duration; durations look like `30m`, `2h`, `1h30m` or `1d`.",
                text=_quote(text),
            )
        )
    # Whole seconds from one up: `remind=500ms` would remind at the start itself. And `in 9999999999d`
    # never reaches timedelta.
    if not (1 <= seconds <= MAX_AHEAD.total_seconds() and seconds.is_integer()):
        raise UserError(
            t(
                "`{text}` is not a usable duration; use one up to five years, such as `30m` or `2h`.",
                text=_quote(text),
            )
        )
    return timedelta(seconds=seconds)


def parse_leads(t: Translator, text: str) -> tuple[int, ...]:
    """`30m,5m` → (1800, 300), largest first; `none` → no reminders before the start."""
    if text.lower() in ("none", "0", "off"):
        return ()
    leads = {parse_duration(t, part.strip()) for part in text.split(",") if part.strip()}
    if not leads or len(leads) > MAX_LEADS or max(leads) > MAX_LEAD:
        raise UserError(
            t(
                "`remind={text}` must list one to five lead times up to 30 days, e.g. "
                "`remind=30m,5m` (or `remind=none`).",
                text=_quote(text),
            )
        )
    return tuple(sorted((int(lead.total_seconds()) for lead in leads), reverse=True))


def _quote(text: str, limit: int = 60) -> str:
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return short.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
