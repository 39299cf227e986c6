"""iris.yml's `reports:` section: who writes the report, what stage it is at, and when it is posted."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config import Section

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ReportsConfig(BaseModel):
    """Every key is optional; without `daily_at` nothing is posted on a schedule."""

    model_config = ConfigDict(extra="forbid")

    daily_at: str | None = None  # "18:00", on the team's clock (IRIS_TIMEZONE)
    days: list[str] = ["mon", "tue", "wed", "thu", "fri"]  # the days the scheduled post is made
    author: str | None = None  # shown as the author; else whoever asked for the report
    reviewer: str | None = None
    stage: str | None = None
    keywords: list[str] = []
    grace_seconds: float = Field(default=600.0, ge=0)  # a post missed while IRIS was down: late or skipped

    @field_validator("daily_at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not CLOCK.match(value):
            raise ValueError('must be a 24-hour time such as "18:00"')
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [day.lower()[:3] for day in value]
        if not days or any(day not in DAYS for day in days):
            raise ValueError("must list days such as [mon, tue, wed, thu, fri]")
        return days

    @field_validator("author", "reviewer", "stage")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 200:
            raise ValueError("has at most 200 characters")
        return value


REPORTS: Section[ReportsConfig] = Section("reports", ReportsConfig, ReportsConfig)
