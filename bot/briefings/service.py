"""Briefings as the handlers see them: add, edit, cancel, answer and finish, with the database as truth."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from bot.briefings.plan import Plan
from bot.briefings.when import Schedule
from storage import briefings as repo
from storage.audit import Audit
from storage.briefings import Briefing, BriefingFiring
from storage.clock import as_utc
from storage.db import read_scope, session_scope

Listener = Callable[[int, datetime | None], None]


class NotFound(Exception):
    """No active briefing has this id."""


class NotStarted(Exception):
    """`done` before the briefing has begun even once."""


class AlreadyDone(Exception):
    """`done` was already recorded for this occurrence; `by` says who did it."""

    def __init__(self, by: str | None) -> None:
        super().__init__(f"already marked done by {by}")
        self.by = by


class NothingLeft(Exception):
    """An addition or edit would leave the briefing with no firing in the future."""


@dataclass(frozen=True)
class Draft:
    """A briefing as `/iris brief add` describes it."""

    title: str
    schedule: Schedule
    channel_id: str
    created_by: str
    kind: str = "briefing"
    leads: tuple[int, ...] = ()
    agenda: str = ""
    attendees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as shown after a click or `done`: its briefing, start firing and the answers."""

    briefing: Briefing
    firing: BriefingFiring
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def absentees(self) -> list[str]:
        """Who answered Can't attend, or was invited and did not answer, in a stable order."""
        invited = repo.attendees_of(self.briefing)
        absent = [u for u in invited if self.answers.get(u) != repo.ATTENDING]
        return absent + [u for u, a in self.answers.items() if a == repo.ABSENT and u not in invited]


@dataclass(frozen=True)
class WrapUp:
    """What `done` hands out after a briefing: the recording link and the notes."""

    recording: str | None = None
    notes: str = ""


class Publisher(Protocol):
    """The engine's port to where briefings are shown (commands/briefings implements it for Slack).

    Every method runs inside the transaction of the change it shows: both commit, or neither does.
    """

    def firing(
        self, session: Session, briefing: Briefing, firing: BriefingFiring, answers: dict[str, str]
    ) -> int:
        """Queue a reminder or start message; returns its outbox id."""
        ...

    def answers_changed(
        self, session: Session, occurrence: Occurrence, messages: list[BriefingFiring]
    ) -> None:
        """Every posted message of the occurrence shows the answers again."""
        ...

    def finished(self, session: Session, occurrence: Occurrence, wrap_up: WrapUp) -> None:
        """`done`: the recording and notes go to the briefing's thread and to each absentee."""
        ...


def plan_of(briefing: Briefing) -> Plan:
    at = as_utc(briefing.starts_at) if briefing.starts_at is not None else None
    return Plan(Schedule(zone=briefing.zone, at=at, rule=briefing.rule), repo.leads_of(briefing))


class BriefingService:
    def __init__(self, engine: Engine, clock: Callable[[], datetime], publisher: Publisher) -> None:
        self.engine = engine
        self.clock = clock
        self.publisher = publisher
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def watch(self, listener: Listener) -> None:
        """Called with (id, next firing) after every change, so the scheduler follows without a restart."""
        with self._lock:
            self._listeners.append(listener)

    def _changed(self, briefing: Briefing) -> None:
        assert briefing.id is not None
        with self._lock:
            listeners = list(self._listeners)
        at = as_utc(briefing.next_fire_at) if briefing.next_fire_at else None
        for listener in listeners:
            listener(briefing.id, at if briefing.status == repo.ACTIVE else None)

    def add(self, draft: Draft, audit: Audit) -> Briefing:
        plan = Plan(draft.schedule, draft.leads)
        first = plan.next_firing(self.clock())
        if first is None:  # the time passed between parsing and now (say `in 1s` behind a busy queue)
            raise NothingLeft()
        briefing = Briefing(
            title=draft.title,
            kind=draft.kind,
            channel_id=draft.channel_id,
            agenda=draft.agenda,
            attendees=json.dumps(list(draft.attendees)),
            leads=json.dumps(list(draft.leads)),
            zone=draft.schedule.zone,
            starts_at=draft.schedule.at,
            rule=draft.schedule.rule,
            next_fire_at=first.fire_at,
            created_by=draft.created_by,
        )
        with session_scope(self.engine) as session:
            repo.create(session, briefing)
            audit.record(session, str(briefing.id))
        self._changed(briefing)
        return briefing

    def edit(self, briefing_id: int, changes: dict[str, Any], audit: Audit) -> Briefing:
        """Apply changes (fields of Draft); the next firing is computed again from now."""
        with session_scope(self.engine) as session:
            current = self._active(session, briefing_id)
            values = _columns(changes)
            merged = Briefing.model_validate(current.model_dump() | values)
            following = plan_of(merged).next_firing(self.clock())
            if following is None:
                raise NothingLeft()
            updated = repo.edit(session, briefing_id, values | {"next_fire_at": following.fire_at})
            if updated is None:
                raise NotFound()
            audit.record(session, str(briefing_id))
        self._changed(updated)
        return updated

    def cancel(self, briefing_id: int, audit: Audit) -> Briefing:
        with session_scope(self.engine) as session:
            briefing = self._active(session, briefing_id)
            if not repo.cancel(session, briefing_id):
                raise NotFound()
            briefing = repo.get(session, briefing_id) or briefing
            audit.record(session, str(briefing_id))
        self._changed(briefing)
        return briefing

    def get(self, briefing_id: int) -> Briefing:
        with read_scope(self.engine) as session:
            return self._active(session, briefing_id)

    def upcoming(self, limit: int = 20) -> tuple[list[Briefing], int]:
        with read_scope(self.engine) as session:
            return repo.upcoming(session, limit)

    def answer(self, firing_id: int, answer: str, audit: Audit) -> Occurrence:
        """Record a click on a reminder or start message (audited); returns the occurrence with every answer.

        Every posted message of the occurrence is shown again in this transaction. The briefing is
        locked first, so two clicks are taken in turn: the later one reads both answers and queues
        its updates after the earlier one's, and no message is left showing an older count.
        """
        user_id = audit.actor.user_id
        with session_scope(self.engine) as session:
            firing = repo.get_firing(session, firing_id)
            if firing is None:
                raise NotFound()
            briefing = self._active(session, firing.briefing_id, lock=True)
            occurrence = as_utc(firing.occurrence_at)
            repo.record_answer(session, firing.briefing_id, occurrence, user_id, answer, self.clock())
            audit.record(session, str(firing.briefing_id), answer=answer, firing=firing_id)
            shown = Occurrence(briefing, firing, repo.answers(session, firing.briefing_id, occurrence))
            self.publisher.answers_changed(
                session, shown, repo.messages_of(session, firing.briefing_id, occurrence)
            )
        return shown

    def finish(self, briefing_id: int, wrap_up: WrapUp, audit: Audit) -> Occurrence:
        """`done`: mark the latest begun occurrence finished, once; returns it with its answers.

        Its messages and its audit record are in the same transaction, so either all happen or none
        does and `done` can simply be repeated.
        """
        with session_scope(self.engine) as session:
            briefing = self._active(session, briefing_id)
            start = repo.latest_start(session, briefing_id)
            if start is None or start.id is None:
                raise NotStarted()
            if not repo.mark_done(session, start.id, audit.actor.user_id, self.clock()):
                session.refresh(start)  # read before a concurrent `done` committed: who did it is new
                raise AlreadyDone(start.done_by)
            occurrence = Occurrence(
                briefing, start, repo.answers(session, briefing_id, as_utc(start.occurrence_at))
            )
            self.publisher.finished(session, occurrence, wrap_up)
            audit.record(session, str(briefing_id), absentees=occurrence.absentees)
        return occurrence

    @staticmethod
    def _active(session: Session, briefing_id: int, lock: bool = False) -> Briefing:
        briefing = repo.lock(session, briefing_id) if lock else repo.get(session, briefing_id)
        if briefing is None or briefing.status != repo.ACTIVE:
            raise NotFound()
        return briefing


def _columns(changes: dict[str, Any]) -> dict[str, Any]:
    """Draft field names → briefing columns."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "schedule":
            values |= {"zone": value.zone, "starts_at": value.at, "rule": value.rule}
        elif name in ("leads", "attendees"):
            values[name] = json.dumps(list(value))
        else:
            values[name] = value
    return values
