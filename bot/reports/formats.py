"""Dates, durations, counts and percentages as each language writes them (Babel, and the catalogs)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.i18n import Translator

# The day in the header, with its weekday: "Thu 12 Dec 2024" / "2024년 12월 12일 (목)".
LONG_DATE = {"en": "EEE d MMM y", "ko": "y년 M월 d일 (E)"}
# A day among next steps or references: "13 Dec" / "12/13".
SHORT_DATE = {"en": "d MMM", "ko": "M/d"}


class Formats:
    """How one language writes the report's figures; `t` is that language's translator."""

    def __init__(self, t: Translator, zone: str) -> None:
        self.t = t
        self.lang = t.lang
        self.zone = ZoneInfo(zone)

    def long_date(self, day: date) -> str:
        return format_date(day, LONG_DATE[self.lang], locale=self.lang)

    def short_date(self, day: date) -> str:
        return format_date(day, SHORT_DATE[self.lang], locale=self.lang)

    def clock(self, moment: datetime) -> str:
        """The team's wall-clock time, 24-hour: "16:00"."""
        return moment.astimezone(self.zone).strftime("%H:%M")

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.lang)

    def percent(self, ratio: float) -> str:
        return format_percent(ratio, format="#,##0%", locale=self.lang)

    def duration(self, seconds: float) -> str:
        """ "3 min 05 s" / "3분 05초"; under a minute with hundredths, over an hour in minutes."""
        t = self.t
        if round(seconds, 2) < 60:
            return t("{seconds} s", seconds=f"{seconds:.2f}")
        whole = round(seconds)
        if whole < 3600:
            minutes, rest = divmod(whole, 60)
            return t("{minutes} min {seconds} s", minutes=minutes, seconds=f"{rest:02d}")
        hours, minutes = divmod(round(seconds / 60), 60)
        return t("{hours} h {minutes} min", hours=hours, minutes=f"{minutes:02d}")
