"""The rehearsal repository on SQLite and PostgreSQL: one running per scenario, runs, attempts, endings."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.rehearsals.analysis import RunResult, analyse_run
from bot.rehearsals.ledger import LedgerEntry
from bot.rehearsals.scenario import parse_scenario
from storage import audit, rehearsals
from storage.audit import Action, Actor
from storage.db import session_scope
from storage.rehearsals import AlreadyRunning, Rehearsal

SCENARIO = parse_scenario(
    """
name: tiny
target: {command: ["true"]}
upstream: http://127.0.0.1:9
faults:
  - id: gw-timeout
    match: {method: POST, path: "/v1/jobs*"}
    respond: {status: 504}
    when: {attempts: [1, 2]}
""",
    Path("tiny.yml"),
)


def _entry(
    run: int,
    attempt: int | None,
    status: int,
    received: float,
    *,
    path: str = "/v1/jobs",
    method: str = "POST",
) -> LedgerEntry:
    injected = status == 504
    return LedgerEntry(
        run=run,
        fault_id="gw-timeout" if attempt else None,
        attempt=attempt,
        method=method,
        path=path,
        received_at=received,
        responded_at=received + 0.25,
        status=status,
        injected=injected,
        retry_after=None,
        upstream_latency=None if injected else 0.25,
        error=None,
    )


# Run 1 recovers with the default model: 504, wait 1 s, 504, wait 2 s, 200; one request off the match.
LEDGER = [
    _entry(1, None, 200, 99.0, path="/health", method="GET"),
    _entry(1, 1, 504, 100.0),
    _entry(1, 2, 504, 101.25),
    _entry(1, 3, 200, 103.5),
    _entry(2, 1, 504, 200.0),  # another run's: not run 1's to store
]


def _run_one() -> RunResult:
    return analyse_run(SCENARIO, 1, LEDGER, exit_code=0, timed_out=False)


def _start(engine: Engine, rehearsal_id: str, scenario: str = "tiny") -> Rehearsal:
    with session_scope(engine) as session:
        return rehearsals.start(
            session,
            id=rehearsal_id,
            scenario=scenario,
            runs_planned=5,
            dry_run=False,
            started_by="U1",
            channel_id="C1",
        )


def _finish(engine: Engine, rehearsal_id: str, status: str = "completed") -> Rehearsal | None:
    with session_scope(engine) as session:
        return rehearsals.finish(
            session, rehearsal_id, status=status, verdict="pass", summary={"verdict": "pass"}, reason=None
        )


def test_a_rehearsal_round_trips_with_its_runs_and_attempts(engine: Engine) -> None:
    result = _run_one()
    assert result.outcome == "recovered" and len(result.gaps) == 2
    _start(engine, "r-00000001")
    with session_scope(engine) as session:
        rehearsals.set_message(session, "r-00000001", 42)
        stored = rehearsals.record_run(session, "r-00000001", result, LEDGER)
    assert stored.id is not None and stored.outcome == "recovered"
    ended = _finish(engine, "r-00000001")
    assert ended is not None and ended.ended_at is not None
    with session_scope(engine) as session:
        rehearsal = rehearsals.get(session, "r-00000001")
        runs = rehearsals.runs_of(session, "r-00000001")
        attempts = rehearsals.attempts_of(session, "r-00000001")
    assert rehearsal is not None
    assert (rehearsal.status, rehearsal.verdict, rehearsal.runs_done, rehearsal.message_id) == (
        "completed",
        "pass",
        1,
        42,
    )
    assert json.loads(rehearsal.summary) == {"verdict": "pass"}
    assert [(r.run, r.exit_code, r.recovery, r.faults_injected) for r in runs] == [(1, 0, 3.5, 2)]
    assert json.loads(runs[0].reasons) == []
    detail = json.loads(runs[0].detail)
    assert [gap["before_attempt"] for gap in detail["gaps"]] == [2, 3]
    assert detail["gaps"][1]["bounds"]["nominal_low"] == 2.0
    assert [(a.path, a.attempt, a.status, a.injected) for a in attempts] == [
        ("/health", None, 200, False),
        ("/v1/jobs", 1, 504, True),
        ("/v1/jobs", 2, 504, True),
        ("/v1/jobs", 3, 200, False),
    ]
    assert (attempts[1].received_at, attempts[1].responded_at, attempts[1].upstream_latency) == (
        100.0,
        100.25,
        None,
    )


def test_a_second_start_names_the_running_one_and_leaves_the_session_usable(engine: Engine) -> None:
    _start(engine, "r-00000001")
    with session_scope(engine) as session:
        with pytest.raises(AlreadyRunning) as caught:
            rehearsals.start(
                session,
                id="r-00000002",
                scenario="tiny",
                runs_planned=1,
                dry_run=True,
                started_by="U2",
                channel_id="C1",
            )
        assert caught.value.rehearsal_id == "r-00000001"
        audit.record(session, Actor("U2"), Action("rehearsal.start", "tiny", outcome="refused"))
        rehearsals.start(
            session,
            id="r-00000003",
            scenario="other",
            runs_planned=1,
            dry_run=False,
            started_by="cli",
            channel_id=None,
        )
    with session_scope(engine) as session:
        assert audit.count(session) == 1
        assert sorted(r.id for r in rehearsals.running(session)) == ["r-00000001", "r-00000003"]
        assert rehearsals.get(session, "r-00000002") is None


def test_two_concurrent_starts_cannot_both_win(engine: Engine) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(rehearsal_id: str) -> None:
        barrier.wait()
        try:
            _start(engine, rehearsal_id)
            outcomes[rehearsal_id] = "started"
        except AlreadyRunning as exc:
            outcomes[rehearsal_id] = f"refused for {exc.rehearsal_id}"

    threads = [threading.Thread(target=attempt, args=(f"r-0000000{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(rehearsal_id for rehearsal_id, outcome in outcomes.items() if outcome == "started")
    assert sorted(outcomes.values()) == ["refused for " + winner, "started"]


def test_a_scenario_can_start_again_once_its_rehearsal_ended(engine: Engine) -> None:
    _start(engine, "r-00000001")
    _finish(engine, "r-00000001", status="aborted")
    assert _start(engine, "r-00000002").status == "running"


def test_the_first_ending_wins(engine: Engine) -> None:
    _start(engine, "r-00000001")
    assert _finish(engine, "r-00000001", status="completed") is not None
    assert _finish(engine, "r-00000001", status="failed") is None
    assert _finish(engine, "r-99999999") is None
    with session_scope(engine) as session:
        rehearsal = rehearsals.get(session, "r-00000001")
        assert rehearsal is not None and rehearsal.status == "completed"
        with pytest.raises(ValueError, match="unknown rehearsal ending"):
            rehearsals.finish(session, "r-00000001", status="running", verdict=None, summary={}, reason=None)


def test_rehearsals_left_running_are_interrupted_at_start_up(engine: Engine) -> None:
    _start(engine, "r-00000001", scenario="a")
    _start(engine, "r-00000002", scenario="b")
    _finish(engine, "r-00000002")
    _start(engine, "r-00000003", scenario="c")
    with session_scope(engine) as session:
        interrupted = rehearsals.interrupt_running(session)
    assert sorted(r.id for r in interrupted) == ["r-00000001", "r-00000003"]
    with session_scope(engine) as session:
        assert rehearsals.running(session) == []
        first = rehearsals.get(session, "r-00000001")
        finished = rehearsals.get(session, "r-00000002")
    assert first is not None and finished is not None
    assert (first.status, first.reason, first.verdict) == ("interrupted", rehearsals.INTERRUPTED_REASON, None)
    assert first.ended_at is not None
    assert finished.status == "completed"


def test_a_run_number_is_recorded_once(engine: Engine) -> None:
    _start(engine, "r-00000001")
    with session_scope(engine) as session:
        rehearsals.record_run(session, "r-00000001", _run_one(), LEDGER)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        rehearsals.record_run(session, "r-00000001", _run_one(), LEDGER)
    with session_scope(engine) as session:
        rehearsal = rehearsals.get(session, "r-00000001")
        assert rehearsal is not None and rehearsal.runs_done == 1
        assert len(rehearsals.attempts_of(session, "r-00000001", run=1)) == 4


def test_recent_lists_the_newest_first(engine: Engine) -> None:
    for day, rehearsal_id in ((1, "r-00000001"), (3, "r-00000003"), (2, "r-00000002")):
        with freeze_time(f"2025-01-0{day} 09:00:00"):
            _start(engine, rehearsal_id, scenario=f"s{day}")
    with session_scope(engine) as session:
        assert [r.id for r in rehearsals.recent(session, limit=2)] == ["r-00000003", "r-00000002"]


def test_a_restart_interrupts_only_its_own_hosts_rehearsals(engine: Engine) -> None:
    with session_scope(engine) as session:
        rehearsals.start(
            session,
            id="r-0000000a",
            scenario="mine",
            runs_planned=1,
            dry_run=False,
            started_by="U1",
            channel_id="C1",
            owner="host-a",
        )
        rehearsals.start(
            session,
            id="r-0000000b",
            scenario="theirs",
            runs_planned=1,
            dry_run=False,
            started_by="U1",
            channel_id="C1",
            owner="host-b",
        )
    with session_scope(engine) as session:
        assert [r.id for r in rehearsals.interrupt_running(session, owner="host-a")] == ["r-0000000a"]
    with session_scope(engine) as session:
        assert [r.id for r in rehearsals.running(session)] == ["r-0000000b"]
