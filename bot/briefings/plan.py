"""Which firings a schedule has: a reminder at each lead time before every start, and the start itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.briefings.when import Schedule


@dataclass(frozen=True, order=True)
class Firing:
    """One message to post: `lead` seconds before the occurrence starting at `occurrence` (0: the start)."""

    fire_at: datetime
    lead: int
    occurrence: datetime


@dataclass(frozen=True)
class Plan:
    schedule: Schedule
    leads: tuple[int, ...]  # seconds before each start, largest first

    def firings_of(self, occurrence: datetime) -> list[Firing]:
        return [Firing(occurrence - timedelta(seconds=lead), lead, occurrence) for lead in (*self.leads, 0)]

    def next_firing(self, after: datetime) -> Firing | None:
        """The earliest firing strictly after `after`; of two at the same moment, the smaller lead wins.

        A later occurrence's reminder can come before an earlier one's start (leads longer than the
        gap between occurrences), so occurrences are read until none can hold an earlier firing.
        """
        widest = timedelta(seconds=max(self.leads, default=0))
        best: Firing | None = None
        occurrence = self.schedule.next_start(after)
        while occurrence is not None and (best is None or occurrence - widest <= best.fire_at):
            for firing in self.firings_of(occurrence):
                if firing.fire_at > after and (
                    best is None or (firing.fire_at, firing.lead) < (best.fire_at, best.lead)
                ):
                    best = firing
            occurrence = self.schedule.next_start(occurrence)
        return best

    def first_firing(self, from_: datetime) -> Firing | None:
        """The earliest firing at or after `from_` (a cursor stored in the database is inclusive)."""
        return self.next_firing(from_ - timedelta(microseconds=1))

    def due(self, cursor: datetime, until: datetime) -> Iterator[Firing]:
        """Every firing from `cursor` (inclusive) up to `until` (inclusive), in order."""
        firing = self.first_firing(cursor)
        while firing is not None and firing.fire_at <= until:
            yield firing
            firing = self.next_firing(firing.fire_at)

    def next_start(self, after: datetime) -> datetime | None:
        return self.schedule.next_start(after)
