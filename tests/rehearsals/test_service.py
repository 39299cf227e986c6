"""The rehearsal service: reports never stop a rehearsal, shutdown interrupts, secrets stay home."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.rehearsals.runner import Progress, RehearsalResult
from bot.rehearsals.scenario import Scenario
from bot.rehearsals.service import RehearsalService, ShuttingDown, StartRequest
from bot.rehearsals.targets import target_environment
from storage import audit
from storage import rehearsals as repo
from storage.audit import Actor, Audit
from storage.db import session_scope
from storage.rehearsals import Rehearsal
from tests.rehearsals.test_runner import write_scenario


class Watcher:
    def __init__(self, explode_on_progress: bool = False) -> None:
        self.explode = explode_on_progress
        self.runs: list[int] = []
        self.done = threading.Event()
        self.result: RehearsalResult | None = None

    def started(self, session: Session, record: Rehearsal, scenario: Scenario) -> None:
        pass

    def progressed(self, record_id: str, progress: Progress) -> None:
        self.runs.append(progress.run)
        if self.explode:
            raise RuntimeError("Slack rendering broke")

    def finished(self, record_id: str, result: RehearsalResult) -> None:
        self.result = result
        self.done.set()

    def failed(self, record_id: str, reason: str) -> None:
        self.done.set()


class Publisher:
    """The port, as a test sees it: every rehearsal reported to the one watcher given."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.interrupted_records: list[Rehearsal] = []

    def watch(self, record: Rehearsal) -> Watcher:
        return self.watcher

    def interrupted(self, records: list[Rehearsal]) -> None:
        self.interrupted_records += records


AUDIT = Audit(Actor("U1", "T1", "C1"), "rehearsal.start")


def _service(engine: Engine, folder: Path, watcher: Watcher) -> RehearsalService:
    return RehearsalService(engine, folder, Publisher(watcher))


def test_a_broken_report_does_not_stop_the_rehearsal(
    sqlite_engine: Engine, tmp_path: Path, upstream: str
) -> None:
    write_scenario(tmp_path, upstream, "tenacity_retry.py", runs=2, honor_retry_after=False)
    watcher = Watcher(explode_on_progress=True)
    service = _service(sqlite_engine, tmp_path, watcher)
    record = service.start(StartRequest("tenacity-retry", None, "U1", "C1"), AUDIT)
    assert watcher.done.wait(60)
    assert watcher.runs == [1, 2] and watcher.result is not None
    with session_scope(sqlite_engine) as session:
        stored = repo.get(session, record.id)
        assert stored is not None
        assert (stored.status, stored.verdict, stored.runs_done) == ("completed", "pass", 2)
        [started] = audit.since(session, stored.started_at)
    assert (started.action, started.target, started.actor) == ("rehearsal.start", record.id, "U1")


HANGS = "import time; time.sleep(600)\n"


def test_shutdown_interrupts_and_no_rehearsal_starts_afterwards(
    sqlite_engine: Engine, tmp_path: Path, upstream: str
) -> None:
    (tmp_path / "hangs.py").write_text(HANGS)
    write_scenario(tmp_path, upstream, str(tmp_path / "hangs.py"), runs=2, timeout="5m")
    watcher = Watcher()
    service = _service(sqlite_engine, tmp_path, watcher)
    record = service.start(StartRequest("hangs", None, "U1", "C1"), AUDIT)
    service.shutdown(timeout=15)
    assert watcher.done.is_set()
    with session_scope(sqlite_engine) as session:
        stored = repo.get(session, record.id)
        assert stored is not None and (stored.status, stored.verdict) == ("interrupted", None)
    with pytest.raises(ShuttingDown):
        service.start(StartRequest("hangs", None, "U1", "C1"), AUDIT)


def test_targets_never_see_iris_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("IRIS_DATABASE_URL", "postgresql+psycopg://iris:pw@db/iris")
    monkeypatch.setenv("PATH", "/usr/bin")
    env = target_environment({"API_URL": "http://127.0.0.1:1", "IRIS_REHEARSAL_ID": "r-00000001"})
    assert "SLACK_BOT_TOKEN" not in env and "IRIS_DATABASE_URL" not in env
    assert env["PATH"] == "/usr/bin" and env["IRIS_REHEARSAL_ID"] == "r-00000001"
    assert env["NO_PROXY"] == "127.0.0.1,localhost"
