"""The fault proxy's journal of every request it answered: the ground truth of a rehearsal's verdict."""

from __future__ import annotations

import bisect
import threading
from dataclasses import asdict, dataclass
from typing import Any

UPSTREAM_UNREACHABLE = "upstream unreachable"  # how `error` begins when the proxy answered 502 itself


@dataclass(frozen=True)
class LedgerEntry:
    """One request through the proxy; times are `time.monotonic()`, which on Linux is system-wide."""

    run: int
    fault_id: str | None  # the first fault, in declaration order, whose match the request satisfied
    attempt: int | None  # n-th request on that fault's match since the run began; None without a fault
    method: str
    path: str  # without the query string
    received_at: float
    responded_at: float
    status: int
    injected: bool
    retry_after: float | None  # seconds announced by an injected response's Retry-After
    upstream_latency: float | None  # None when injected or the upstream could not answer
    error: str | None  # why the proxy answered itself (upstream unreachable, body too large)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _received_at(entry: LedgerEntry) -> float:
    return entry.received_at


class Ledger:
    """Thread-safe: the proxy records from its own loop while the runner reads from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []

    def record(self, entry: LedgerEntry) -> None:
        # Entries are recorded when answered, which a fault's delay can reorder; keep receive order.
        with self._lock:
            bisect.insort_right(self._entries, entry, key=_received_at)

    def entries(self, run: int | None = None) -> list[LedgerEntry]:
        """Every entry of `run` (all runs when None), in the order the requests were received."""
        with self._lock:
            return [entry for entry in self._entries if run is None or entry.run == run]

    def faults_injected(self, run: int | None = None) -> int:
        return sum(1 for entry in self.entries(run) if entry.injected)

    def to_json(self) -> list[dict[str, Any]]:
        """The journal as plain JSON-safe dicts, in receive order."""
        return [entry.to_dict() for entry in self.entries()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
