"""Rehearsal repository: start one per scenario, record each run with its attempts, and end it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Column, Index, Text, UniqueConstraint, func, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.clock import utcnow
from storage.db import rows_between


class JudgedRun(Protocol):
    """What storage keeps of one run as the engine judged it (bot.rehearsals.analysis.RunResult)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # kept whole, as JSON

    @property
    def run(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def recovery(self) -> float | None: ...
    @property
    def faults_injected(self) -> int: ...
    @property
    def reasons(self) -> list[str]: ...


class Attempt(Protocol):
    """One request through the fault proxy (bot.rehearsals.ledger.LedgerEntry): a rehearsal_attempt row."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # every field is a column

    @property
    def run(self) -> int: ...


_RUNNING_ONLY = text("status = 'running'")


class Rehearsal(SQLModel, table=True):
    """One rehearsal of a scenario: how many runs, who started it, and how it ended."""

    __tablename__ = "rehearsal"
    __table_args__ = (
        # One running rehearsal per scenario, decided by the database so two concurrent starts
        # (two replicas, a double click) cannot both win.
        Index(
            "uq_rehearsal_running_scenario",
            "scenario",
            unique=True,
            sqlite_where=_RUNNING_ONLY,
            postgresql_where=_RUNNING_ONLY,
        ),
        Index("ix_rehearsal_started_at", "started_at"),  # the day's rehearsals, for its report
    )

    id: str = Field(primary_key=True, max_length=32)
    scenario: str = Field(max_length=64)
    status: str = Field(default="running", max_length=16)  # running|completed|failed|aborted|interrupted
    verdict: str | None = Field(default=None, max_length=16)  # pass|fail|inconclusive, None until known
    runs_planned: int
    runs_done: int = 0
    dry_run: bool = False
    started_by: str | None = Field(default=None, max_length=32)  # a Slack user id, or "cli"
    channel_id: str | None = Field(default=None, max_length=32)
    owner: str = Field(default="", max_length=255)  # the host running it; only that host can clean it up
    message_id: int | None = None  # the outbox message showing it; no foreign key, the outbox is pruned
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # the result, no journal
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it ended early


class RehearsalRun(SQLModel, table=True):
    """One run of a rehearsal as the analysis judged it."""

    __tablename__ = "rehearsal_run"
    __table_args__ = (UniqueConstraint("rehearsal_id", "run", name="uq_rehearsal_run_rehearsal_id_run"),)

    id: int | None = Field(default=None, primary_key=True)
    rehearsal_id: str = Field(foreign_key="rehearsal.id", max_length=32)
    run: int
    outcome: str = Field(max_length=16)  # recovered | failed | timeout
    exit_code: int | None = None
    recovery: float | None = None  # seconds
    faults_injected: int = 0
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of sentences
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON RunResult, with gaps


class RehearsalAttempt(SQLModel, table=True):
    """One request through the fault proxy: a ledger entry, kept as the evidence behind a verdict."""

    __tablename__ = "rehearsal_attempt"
    __table_args__ = (Index("ix_rehearsal_attempt_rehearsal_id_run", "rehearsal_id", "run"),)

    id: int | None = Field(default=None, primary_key=True)
    rehearsal_id: str = Field(foreign_key="rehearsal.id", max_length=32)
    run: int
    fault_id: str | None = Field(default=None, max_length=64)
    attempt: int | None = None
    # Whatever the target sent: neither is bounded by the proxy, so neither is bounded here.
    method: str = Field(sa_column=Column(Text, nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    status: int
    injected: bool
    received_at: float  # time.monotonic() of the proxy process
    responded_at: float
    retry_after: float | None = None
    upstream_latency: float | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


RUNNING = "running"
ENDINGS = ("completed", "failed", "aborted", "interrupted")
VERDICTS = ("pass", "fail", "inconclusive")
INTERRUPTED_REASON = "IRIS restarted while it was running"


class AlreadyRunning(Exception):
    """The scenario already has a running rehearsal; `rehearsal_id` names it."""

    def __init__(self, rehearsal_id: str) -> None:
        super().__init__(f"rehearsal {rehearsal_id} of this scenario is already running")
        self.rehearsal_id = rehearsal_id


def start(
    session: Session,
    *,
    id: str,
    scenario: str,
    runs_planned: int,
    dry_run: bool,
    started_by: str | None,
    channel_id: str | None,
    owner: str = "",
) -> Rehearsal:
    """A new running rehearsal; AlreadyRunning when the scenario has one.

    The partial unique index decides, so two concurrent starts cannot both win. The insert runs
    in a savepoint: when it loses, the caller's transaction is still usable, e.g. to audit the refusal.
    """
    rehearsal = Rehearsal(
        id=id,
        scenario=scenario,
        status=RUNNING,
        runs_planned=runs_planned,
        dry_run=dry_run,
        started_by=started_by,
        channel_id=channel_id,
        owner=owner,
    )
    try:
        with session.begin_nested():
            session.add(rehearsal)
    except IntegrityError:
        existing = _running_of(session, scenario)
        if existing is None:  # not the one-running rule (a reused id, say): nothing to explain it by
            raise
        raise AlreadyRunning(existing.id) from None
    return rehearsal


def _running_of(session: Session, scenario: str) -> Rehearsal | None:
    query = select(Rehearsal).where(Rehearsal.scenario == scenario, Rehearsal.status == RUNNING)
    return session.exec(query).first()


def set_message(session: Session, id: str, message_id: int) -> None:
    """Remember which outbox message shows the rehearsal, so later edits and replies can refer to it."""
    session.execute(update(Rehearsal).where(col(Rehearsal.id) == id).values(message_id=message_id))


def record_run(
    session: Session, rehearsal_id: str, result: JudgedRun, entries: Sequence[Attempt]
) -> RehearsalRun:
    """Store one judged run and its ledger entries (entries of other runs are left out); bumps runs_done.

    A run number recorded twice is refused by the unique (rehearsal_id, run) constraint.
    """
    row = RehearsalRun(
        rehearsal_id=rehearsal_id,
        run=result.run,
        outcome=result.outcome,
        exit_code=result.exit_code,
        recovery=result.recovery,
        faults_injected=result.faults_injected,
        reasons=_json(result.reasons),
        detail=_json(asdict(result)),
    )
    session.add(row)
    session.flush()
    attempts = [_attempt_values(rehearsal_id, entry) for entry in entries if entry.run == result.run]
    if attempts:  # one executemany: a run can have thousands of requests
        session.execute(insert(RehearsalAttempt), attempts)
    session.execute(
        update(Rehearsal).where(col(Rehearsal.id) == rehearsal_id).values(runs_done=Rehearsal.runs_done + 1)
    )
    return row


def _attempt_values(rehearsal_id: str, entry: Attempt) -> dict[str, Any]:
    return {"rehearsal_id": rehearsal_id} | asdict(entry)


def finish(
    session: Session,
    id: str,
    *,
    status: str,
    verdict: str | None,
    summary: dict[str, Any],
    reason: str | None,
) -> Rehearsal | None:
    """End a running rehearsal; None when it is unknown or has already ended (the first ending wins)."""
    if status not in ENDINGS:
        raise ValueError(f"unknown rehearsal ending {status!r}")
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"unknown rehearsal verdict {verdict!r}")
    result = session.execute(
        update(Rehearsal)
        .where(col(Rehearsal.id) == id, col(Rehearsal.status) == RUNNING)
        .values(status=status, verdict=verdict, summary=_json(summary), reason=reason, ended_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return _fresh(session, id)


def interrupt_running(session: Session, owner: str | None = None) -> list[Rehearsal]:
    """At start-up: rehearsals still marked running on this owner (host) were cut off by a restart.

    With `owner` None every running row is taken; replicas on other hosts keep theirs.
    """
    interrupted = [r for r in running(session) if owner is None or r.owner == owner]
    moment = utcnow()
    for rehearsal in interrupted:
        rehearsal.status, rehearsal.reason, rehearsal.ended_at = "interrupted", INTERRUPTED_REASON, moment
    session.flush()
    return interrupted


def get(session: Session, id: str) -> Rehearsal | None:
    return session.get(Rehearsal, id)


def _fresh(session: Session, id: str) -> Rehearsal | None:
    """The row as the database has it now, after an UPDATE that bypassed the identity map."""
    return session.get(Rehearsal, id, populate_existing=True)


def running(session: Session) -> list[Rehearsal]:
    query = select(Rehearsal).where(Rehearsal.status == RUNNING).order_by(col(Rehearsal.started_at))
    return list(session.exec(query).all())


def recent(session: Session, limit: int = 10) -> list[Rehearsal]:
    """The latest rehearsals, newest first, whatever their status."""
    query = (
        select(Rehearsal).order_by(col(Rehearsal.started_at).desc(), col(Rehearsal.id).desc()).limit(limit)
    )
    return list(session.exec(query).all())


def runs_of(session: Session, id: str) -> list[RehearsalRun]:
    query = select(RehearsalRun).where(RehearsalRun.rehearsal_id == id).order_by(col(RehearsalRun.run))
    return list(session.exec(query).all())


def attempts_of(session: Session, id: str, run: int | None = None) -> list[RehearsalAttempt]:
    """The ledger of a rehearsal (of one run when given), in the order the requests were received."""
    query = select(RehearsalAttempt).where(RehearsalAttempt.rehearsal_id == id)
    if run is not None:
        query = query.where(RehearsalAttempt.run == run)
    order = (col(RehearsalAttempt.run), col(RehearsalAttempt.received_at), col(RehearsalAttempt.id))
    return list(session.exec(query.order_by(*order)).all())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def started_between(session: Session, start: datetime, end: datetime) -> list[Rehearsal]:
    """The rehearsals started in [start, end), oldest first: a rehearsal belongs to the day it began."""
    return rows_between(session, Rehearsal, Rehearsal.started_at, start, end)


def injected_by_fault(session: Session, ids: list[str]) -> dict[str, dict[str, int]]:
    """How often each fault was injected, per rehearsal: {rehearsal id: {fault id: count}}."""
    if not ids:
        return {}
    query = (
        select(RehearsalAttempt.rehearsal_id, RehearsalAttempt.fault_id, func.count())
        .where(col(RehearsalAttempt.rehearsal_id).in_(ids), col(RehearsalAttempt.injected).is_(True))
        .group_by(col(RehearsalAttempt.rehearsal_id), col(RehearsalAttempt.fault_id))
    )
    found: dict[str, dict[str, int]] = {}
    for rehearsal_id, fault_id, count in session.exec(query).all():
        found.setdefault(rehearsal_id, {})[fault_id or "-"] = int(count)
    return found
