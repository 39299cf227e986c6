"""The ledger keeps every request in receive order, per run, safely across threads."""

from __future__ import annotations

import json
import threading

from bot.rehearsals.ledger import Ledger, LedgerEntry


def entry(
    received_at: float,
    *,
    run: int = 1,
    injected: bool = False,
    fault_id: str | None = "gw",
    attempt: int | None = 1,
) -> LedgerEntry:
    return LedgerEntry(
        run=run,
        fault_id=fault_id,
        attempt=attempt,
        method="POST",
        path="/v1/jobs",
        received_at=received_at,
        responded_at=received_at + 0.01,
        status=504 if injected else 201,
        injected=injected,
        retry_after=2.0 if injected else None,
        upstream_latency=None if injected else 0.005,
        error=None,
    )


def test_entries_come_back_in_receive_order_even_when_recorded_out_of_order() -> None:
    ledger = Ledger()
    late, early, tied = entry(2.0), entry(1.0), entry(2.0, attempt=2)
    for item in (late, early, tied):
        ledger.record(item)
    assert ledger.entries() == [early, late, tied]


def test_entries_and_faults_injected_filter_by_run() -> None:
    ledger = Ledger()
    ledger.record(entry(1.0, run=1, injected=True))
    ledger.record(entry(2.0, run=1))
    ledger.record(entry(3.0, run=2, injected=True))
    ledger.record(entry(4.0, run=2, injected=True))
    assert [e.received_at for e in ledger.entries(2)] == [3.0, 4.0]
    assert ledger.faults_injected(1) == 1
    assert ledger.faults_injected(2) == 2
    assert ledger.faults_injected() == 3


def test_entries_returns_a_copy() -> None:
    ledger = Ledger()
    ledger.record(entry(1.0))
    ledger.entries().clear()
    assert len(ledger) == 1


def test_journal_is_json_safe_and_complete() -> None:
    ledger = Ledger()
    ledger.record(entry(1.0, injected=True))
    ledger.record(entry(2.0, fault_id=None, attempt=None))
    journal = json.loads(json.dumps(ledger.to_json()))
    assert journal[0]["injected"] is True
    assert journal[0]["retry_after"] == 2.0
    assert journal[1]["fault_id"] is None
    assert set(journal[0]) == {
        "run",
        "fault_id",
        "attempt",
        "method",
        "path",
        "received_at",
        "responded_at",
        "status",
        "injected",
        "retry_after",
        "upstream_latency",
        "error",
    }


def test_concurrent_writers_lose_nothing() -> None:
    ledger = Ledger()

    def write(offset: int) -> None:
        for i in range(200):
            ledger.record(entry(offset + i / 1000))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = [e.received_at for e in ledger.entries()]
    assert len(times) == 1600
    assert times == sorted(times)
