"""IRIS's own job runner: long work leaves Bolt's listener at once and runs on these threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from bot.errors import log_crash
from bot.metrics import Metrics

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT_S = 10.0


class JobRunner:
    def __init__(self, metrics: Metrics, workers: int = 4) -> None:
        self._metrics = metrics
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="iris-job")
        self._lock = threading.Lock()
        self._unfinished: set[Future[Any]] = set()

    def submit(self, name: str, work: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `work(*args)` soon; whatever it raises is logged with a reference, never lost silently."""
        future = self._pool.submit(self._run, name, work, *args)
        with self._lock:
            self._unfinished.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._unfinished.discard(future)

    def _run(self, name: str, work: Callable[..., Any], *args: Any) -> Any:
        try:
            result = work(*args)
        except Exception:
            log_crash(log, f"job {name}")
            self._metrics.jobs.labels(name, "crashed").inc()
            return None
        self._metrics.jobs.labels(name, "ok").inc()
        return result

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> int:
        """Give submitted jobs up to `timeout` seconds to finish; return how many did not.

        Bounded so a stuck job cannot outlast the orchestrator's kill grace period: what has not
        started by then is cancelled, what is still running is abandoned and logged.
        """
        with self._lock:
            unfinished = set(self._unfinished)
        _, still_running = wait(unfinished, timeout=timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if still_running:
            log.warning(
                "stopping with %d job(s) unfinished after %.0f s; their work is abandoned",
                len(still_running),
                timeout,
            )
        return len(still_running)
