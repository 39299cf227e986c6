"""IRIS's own job runner: long work leaves Bolt's listener at once and runs on these threads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bot.errors import log_crash
from bot.metrics import Metrics

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, metrics: Metrics, workers: int = 8) -> None:
        self._metrics = metrics
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="iris-job")

    def submit(self, name: str, work: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `work(*args)` soon; whatever it raises is logged with a reference, never lost silently."""
        return self._pool.submit(self._run, name, work, *args)

    def _run(self, name: str, work: Callable[..., Any], *args: Any) -> Any:
        try:
            result = work(*args)
        except Exception:
            log_crash(log, f"job {name}")
            self._metrics.jobs.labels(name, "crashed").inc()
            return None
        self._metrics.jobs.labels(name, "ok").inc()
        return result

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
