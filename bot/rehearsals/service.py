"""Starts, tracks and aborts rehearsals for the bot: one thread each, every step kept in the database."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from bot.errors import log_crash
from bot.rehearsals.runner import Progress, Rehearsal, RehearsalResult
from bot.rehearsals.scenario import Scenario, ScenarioError, find_scenarios, scenario_by_name
from bot.rehearsals.targets import kill_leftover_targets
from storage import rehearsals as repo
from storage.audit import Audit
from storage.db import read_scope, session_scope
from storage.rehearsals import Rehearsal as RehearsalRecord

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """Who hears about one rehearsal as it goes; called on the rehearsal's thread."""

    def started(self, session: Session, record: RehearsalRecord, scenario: Scenario) -> int | None:
        """Show it, in the transaction that records where: returns the outbox id of what shows it."""
        ...

    def progressed(self, record_id: str, progress: Progress) -> None: ...

    def finished(self, record_id: str, result: RehearsalResult) -> None: ...

    def failed(self, record_id: str, reason: str) -> None: ...


class Publisher(Protocol):
    """The engine's port to the people following rehearsals (commands/rehearsals implements it for Slack)."""

    def watch(self, record: RehearsalRecord) -> Watcher:
        """A watcher for a rehearsal about to start, shown where it was started from."""
        ...

    def interrupted(self, records: list[RehearsalRecord]) -> None:
        """Rehearsals a restart cut off: wherever they were shown must stop saying "running"."""
        ...


class NoSuchRehearsal(Exception):
    """No rehearsal has this id."""


class ShuttingDown(Exception):
    """IRIS is stopping; no new rehearsal may start in this process."""


@dataclass(frozen=True)
class StartRequest:
    name: str
    runs: int | None
    started_by: str
    channel_id: str | None


class RehearsalService:
    def __init__(
        self,
        engine: Engine,
        scenarios: Path,
        publisher: Publisher,
        *,
        alertmanager_url: str | None = None,
        make_rehearsal: Callable[..., Rehearsal] = Rehearsal,
    ) -> None:
        self._engine = engine
        self._folder = scenarios
        self._publisher = publisher
        self._alertmanager_url = alertmanager_url
        self._make = make_rehearsal
        self._running: dict[str, tuple[Rehearsal, threading.Thread]] = {}
        self._lock = threading.Lock()
        self._closing = False

    def scenarios(self) -> list[tuple[Path, Scenario | ScenarioError]]:
        """Every scenario file in the configured folder, valid or not (so a broken one is visible)."""
        if not self._folder.is_dir():
            return []
        return find_scenarios(self._folder)

    def shown(self, rehearsal_id: str | None, limit: int = 10) -> list[RehearsalRecord]:
        """One rehearsal (NoSuchRehearsal when unknown), or the running ones and then the latest."""
        with read_scope(self._engine) as session:
            if rehearsal_id is not None:
                found = repo.get(session, rehearsal_id)
                if found is None:
                    raise NoSuchRehearsal(rehearsal_id)
                return [found]
            records = repo.running(session) + repo.recent(session)
        return list({record.id: record for record in records}.values())[:limit]

    def scenario(self, name: str) -> Scenario:
        return scenario_by_name(self._folder, name)

    def start(self, request: StartRequest, audit: Audit) -> RehearsalRecord:
        """Claim the scenario in the database (audited with the claim), then run it on a thread of its own.

        Raises ScenarioError for an unknown or invalid scenario and repo.AlreadyRunning when the
        scenario is already being rehearsed (by this or another IRIS process).
        """
        scenario = self.scenario(request.name)
        if self._closing:
            raise ShuttingDown()
        rehearsal_id = f"r-{secrets.token_hex(4)}"
        runs = min(request.runs or scenario.runs, scenario.runs)
        with session_scope(self._engine) as session:
            record = repo.start(
                session,
                id=rehearsal_id,
                scenario=scenario.name,
                runs_planned=runs,
                dry_run=False,
                started_by=request.started_by,
                channel_id=request.channel_id,
                owner=socket.gethostname(),
            )
            audit.record(session, record.id, scenario=scenario.name, runs=runs)
        try:
            self._launch(record, scenario, runs, self._publisher.watch(record))
        except BaseException:
            self._fail(rehearsal_id, "IRIS could not start it")
            raise
        return record

    def _launch(self, record: RehearsalRecord, scenario: Scenario, runs: int, watcher: Watcher) -> None:
        rehearsal = self._make(
            scenario,
            runs=runs,
            rehearsal_id=record.id,
            alertmanager_url=self._alertmanager_url,
            on_progress=lambda progress: self._progressed(record.id, progress, watcher),
        )
        thread = threading.Thread(
            target=self._run,
            args=(record, scenario, rehearsal, watcher),
            name=f"iris-rehearsal-{record.id}",
            daemon=True,
        )
        with self._lock:
            if self._closing:  # shutdown began between the checks: leave nothing running behind it
                raise ShuttingDown()
            self._running[record.id] = (rehearsal, thread)
        thread.start()

    def _run(
        self, record: RehearsalRecord, scenario: Scenario, rehearsal: Rehearsal, watcher: Watcher
    ) -> None:
        try:
            _tell(self._shown, record, scenario, watcher)
            result = rehearsal.run()
            self._finish(record.id, result)
            _tell(watcher.finished, record.id, result)
        except Exception:
            reference = log_crash(log, f"rehearsal {record.id}")
            reason = f"IRIS failed while running it (reference {reference})"
            _tell(self._fail, record.id, reason)
            _tell(watcher.failed, record.id, reason)
        finally:
            with self._lock:
                self._running.pop(record.id, None)

    def _shown(self, record: RehearsalRecord, scenario: Scenario, watcher: Watcher) -> None:
        with session_scope(self._engine) as session:
            message_id = watcher.started(session, record, scenario)
            if message_id is not None:
                repo.set_message(session, record.id, message_id)

    def _progressed(self, rehearsal_id: str, progress: Progress, watcher: Watcher) -> None:
        rehearsal = self._running.get(rehearsal_id, (None, None))[0]
        entries = rehearsal.ledger.entries(progress.run) if rehearsal else []
        _tell(self._record_run, rehearsal_id, progress, entries)
        _tell(watcher.progressed, rehearsal_id, progress)

    def _record_run(self, rehearsal_id: str, progress: Progress, entries: list[Any]) -> None:
        with session_scope(self._engine) as session:
            repo.record_run(session, rehearsal_id, progress.result, entries)

    def _finish(self, rehearsal_id: str, result: RehearsalResult) -> None:
        summary = {k: v for k, v in result.to_json().items() if k != "journal"}
        with session_scope(self._engine) as session:
            repo.finish(
                session,
                rehearsal_id,
                status=result.status,
                verdict=result.verdict.verdict if result.verdict else None,
                summary=summary,
                reason="; ".join(result.notes) or None,
            )

    def _fail(self, rehearsal_id: str, reason: str) -> None:
        with session_scope(self._engine) as session:
            repo.finish(session, rehearsal_id, status="failed", verdict=None, summary={}, reason=reason)

    def abort(self, rehearsal_id: str, audit: Audit) -> bool:
        """Ask a rehearsal running in this process to stop (audited); False when it is not running here."""
        with self._lock:
            entry = self._running.get(rehearsal_id)
        if entry is None:
            return False
        with session_scope(self._engine) as session:
            audit.record(session, rehearsal_id)
        entry[0].abort.set()
        return True

    def is_running_here(self, rehearsal_id: str) -> bool:
        with self._lock:
            return rehearsal_id in self._running

    def close(self) -> None:
        """From now on no rehearsal starts here (IRIS is stopping)."""
        with self._lock:
            self._closing = True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Interrupt every rehearsal of this process and wait for their cleanup (processes, proxy).

        Whatever has not cleaned up by the shared deadline has its target processes killed outright.
        """
        self.close()
        with self._lock:
            entries = dict(self._running)
        for rehearsal, _ in entries.values():
            rehearsal.interrupt()
        deadline = time.monotonic() + timeout
        for rehearsal_id, (_, thread) in entries.items():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                kill_leftover_targets(rehearsal_id)

    def interrupt_leftovers(self) -> list[RehearsalRecord]:
        """At start-up: rehearsals the database says are running were cut off by a restart.

        Their targets may still be running (they live in sessions of their own): they are ended.
        Only this host's rehearsals are touched; another replica's may be running fine.
        """
        with session_scope(self._engine) as session:
            records = repo.interrupt_running(session, owner=socket.gethostname())
        for record in records:
            killed = kill_leftover_targets(record.id)
            if killed:
                log.warning("ended %d processes left running by rehearsal %s", killed, record.id)
        if records:
            log.warning("marked %d rehearsals interrupted by the restart", len(records))
            _tell(self._publisher.interrupted, records)
        return records


def _tell(call: Callable[..., object], *args: object) -> None:
    """A report about a rehearsal must never stop the rehearsal: log the failure and go on."""
    try:
        call(*args)
    except Exception:
        log_crash(log, f"reporting on a rehearsal ({getattr(call, '__name__', 'call')})")


class InBackground:
    """The rehearsals' part of IRIS's start and stop (commands.feature.Background)."""

    STOP_TIMEOUT_S = 10.0  # a target gets SIGTERM, then SIGKILL after 5 s

    def __init__(self, service: RehearsalService) -> None:
        self.service = service

    def start(self) -> None:
        self.service.interrupt_leftovers()

    def close(self) -> None:
        self.service.close()  # a queued job must not start a rehearsal from here on

    def stop(self, timeout: float) -> None:
        self.service.shutdown(timeout=min(self.STOP_TIMEOUT_S, timeout))  # ends targets and proxies
