"""Starts, tracks and aborts rehearsals for the bot: one thread each, every step kept in the database."""

from __future__ import annotations

import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from bot.errors import log_crash
from bot.rehearsal.runner import Progress, Rehearsal, RehearsalResult
from bot.rehearsal.scenario import Scenario, ScenarioError, find_scenarios, scenario_by_name
from bot.rehearsal.targets import kill_leftover_targets
from storage import rehearsals as repo
from storage.db import session_scope
from storage.models import Rehearsal as RehearsalRecord

log = logging.getLogger(__name__)


class Watcher(Protocol):
    """Who hears about a rehearsal as it goes (the Slack flow); called on the rehearsal's thread."""

    def started(self, record: RehearsalRecord, scenario: Scenario) -> None: ...

    def progressed(self, record_id: str, progress: Progress) -> None: ...

    def finished(self, record_id: str, result: RehearsalResult) -> None: ...


@dataclass(frozen=True)
class StartRequest:
    name: str
    runs: int | None
    started_by: str
    channel_id: str | None


class RehearsalService:
    def __init__(self, engine: Engine, scenarios: Path, *, alertmanager_url: str | None = None,
                 make_rehearsal: Callable[..., Rehearsal] = Rehearsal) -> None:
        self._engine = engine
        self._folder = scenarios
        self._alertmanager_url = alertmanager_url
        self._make = make_rehearsal
        self._running: dict[str, tuple[Rehearsal, threading.Thread]] = {}
        self._lock = threading.Lock()

    def scenarios(self) -> list[tuple[Path, Scenario | ScenarioError]]:
        """Every scenario file in the configured folder, valid or not (so a broken one is visible)."""
        if not self._folder.is_dir():
            return []
        return find_scenarios(self._folder)

    def scenario(self, name: str) -> Scenario:
        return scenario_by_name(self._folder, name)

    def start(self, request: StartRequest, watcher: Watcher) -> RehearsalRecord:
        """Claim the scenario in the database, then run it on a thread of its own.

        Raises ScenarioError for an unknown or invalid scenario and repo.AlreadyRunning when the
        scenario is already being rehearsed (by this or another IRIS process).
        """
        scenario = self.scenario(request.name)
        rehearsal_id = f"r-{secrets.token_hex(4)}"
        runs = min(request.runs or scenario.runs, scenario.runs)
        with session_scope(self._engine) as session:
            record = repo.start(session, id=rehearsal_id, scenario=scenario.name, runs_planned=runs,
                                dry_run=False, started_by=request.started_by, channel_id=request.channel_id,
                                owner=socket.gethostname())
        rehearsal = self._make(scenario, runs=runs, rehearsal_id=rehearsal_id,
                               alertmanager_url=self._alertmanager_url,
                               on_progress=lambda progress: self._progressed(rehearsal_id, progress, watcher))
        thread = threading.Thread(target=self._run, args=(record, scenario, rehearsal, watcher),
                                  name=f"iris-rehearsal-{rehearsal_id}", daemon=True)
        with self._lock:
            self._running[rehearsal_id] = (rehearsal, thread)
        thread.start()
        return record

    def _run(self, record: RehearsalRecord, scenario: Scenario, rehearsal: Rehearsal,
             watcher: Watcher) -> None:
        try:
            watcher.started(record, scenario)
            result = rehearsal.run()
            self._finish(record.id, result)
            watcher.finished(record.id, result)
        except Exception:
            reference = log_crash(log, f"rehearsal {record.id}")
            self._fail(record.id, f"IRIS failed while running it (reference {reference})")
        finally:
            with self._lock:
                self._running.pop(record.id, None)

    def _progressed(self, rehearsal_id: str, progress: Progress, watcher: Watcher) -> None:
        rehearsal = self._running.get(rehearsal_id, (None, None))[0]
        entries = rehearsal.ledger.entries(progress.run) if rehearsal else []
        with session_scope(self._engine) as session:
            repo.record_run(session, rehearsal_id, progress.result, entries)
        watcher.progressed(rehearsal_id, progress)

    def _finish(self, rehearsal_id: str, result: RehearsalResult) -> None:
        summary = {k: v for k, v in result.to_json().items() if k != "journal"}
        with session_scope(self._engine) as session:
            repo.finish(session, rehearsal_id, status=result.status,
                        verdict=result.verdict.verdict if result.verdict else None, summary=summary,
                        reason="; ".join(result.notes) or None)

    def _fail(self, rehearsal_id: str, reason: str) -> None:
        with session_scope(self._engine) as session:
            repo.finish(session, rehearsal_id, status="failed", verdict=None, summary={}, reason=reason)

    def abort(self, rehearsal_id: str) -> bool:
        """Ask a rehearsal running in this process to stop; False when it is not running here."""
        with self._lock:
            entry = self._running.get(rehearsal_id)
        if entry is None:
            return False
        entry[0].abort.set()
        return True

    def is_running_here(self, rehearsal_id: str) -> bool:
        with self._lock:
            return rehearsal_id in self._running

    def shutdown(self, timeout: float = 20.0) -> None:
        """Abort every rehearsal of this process and wait for their cleanup (processes, proxy)."""
        with self._lock:
            entries = list(self._running.values())
        for rehearsal, _ in entries:
            rehearsal.abort.set()
        for _, thread in entries:
            thread.join(timeout=timeout / max(1, len(entries)))

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
        return records
