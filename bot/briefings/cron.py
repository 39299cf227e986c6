"""Five-field cron rules evaluated on the team's wall clock with zoneinfo, so DST changes come out right.

A wall time the clocks skip (02:30 on a spring-forward night) fires shifted forward by the skipped
hour (03:30); a wall time that happens twice (01:30 on a fall-back night) fires once, the first time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 5 * 366 + 1  # "0 9 29 2 1" (29 February on a Monday) can be years away
DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
MONTH_NAMES = {
    name: n
    for n, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
FIELD = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


class CronError(ValueError):
    """The expression is not a five-field cron rule; the message names the field."""


@dataclass(frozen=True)
class CronRule:
    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    any_day: bool  # day-of-month is `*`
    any_weekday: bool  # day-of-week is `*`

    @classmethod
    def parse(cls, expression: str) -> CronRule:
        fields = expression.lower().split()
        if len(fields) != 5:
            raise CronError("a cron rule has five fields: minute hour day-of-month month day-of-week")
        minute, hour, day, month, weekday = fields
        weekdays = frozenset(d % 7 for d in _field(weekday, 0, 7, DAY_NAMES, "day-of-week"))
        return cls(
            expression=" ".join(fields),
            minutes=tuple(sorted(_field(minute, 0, 59, {}, "minute"))),
            hours=tuple(sorted(_field(hour, 0, 23, {}, "hour"))),
            days=frozenset(_field(day, 1, 31, {}, "day-of-month")),
            months=frozenset(_field(month, 1, 12, MONTH_NAMES, "month")),
            weekdays=weekdays,
            any_day=day == "*",
            any_weekday=weekday == "*",
        )

    def matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day, by_weekday = day.day in self.days, (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # cron: when both are restricted, either one matches
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first firing strictly after `after`, in UTC; None when there is none within five years."""
        day = after.astimezone(zone).date() - timedelta(days=1)  # a skipped hour can move into today
        for _ in range(MAX_DAYS):
            if self.matches(day):
                later = [moment for moment in self._instants(day, zone) if moment > after]
                if later:
                    return min(later)  # a shifted skipped-hour time can sort after the next one
            if day.year >= MAXYEAR:
                return None
            day += timedelta(days=1)
        return None

    def _instants(self, day: date, zone: ZoneInfo) -> list[datetime]:
        return [
            datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
            for hour in self.hours
            for minute in self.minutes
        ]


def _field(text: str, low: int, high: int, names: dict[str, int], label: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = FIELD.match(part)
        if not match:
            raise CronError(f"the {label} field `{part}` is not a number, range, list or */step")
        span, step = match.group(1), int(match.group(2) or 1)
        first, last = (low, high) if span == "*" else _span(span, names, label)
        if not low <= first <= last <= high or step < 1:
            raise CronError(f"the {label} field `{part}` must stay within {low}-{high}")
        values.update(range(first, last + 1, step))
    return values


def _span(span: str, names: dict[str, int], label: str) -> tuple[int, int]:
    ends = [_value(end, names, label) for end in span.split("-")]
    return ends[0], ends[-1]


def _value(word: str, names: dict[str, int], label: str) -> int:
    if word.isascii() and word.isdigit():
        return int(word)
    if word[:3] in names:
        return names[word[:3]]
    raise CronError(f"the {label} field has `{word}`, which is neither a number nor a name")
