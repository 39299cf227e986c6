"""The job runner: crashes are logged and counted, and stopping never waits for ever."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.jobs import JobRunner
from bot.metrics import Metrics


def _jobs_total(metrics: Metrics, name: str, result: str) -> float | None:
    return metrics.registry.get_sample_value("iris_jobs_total", {"name": name, "result": result})


def test_a_finished_job_returns_its_result_and_is_counted() -> None:
    metrics = Metrics()
    runner = JobRunner(metrics)
    assert runner.submit("add", lambda a, b: a + b, 2, 3).result(timeout=5) == 5
    assert runner.shutdown(timeout=5) == 0
    assert _jobs_total(metrics, "add", "ok") == 1


def test_a_crashing_job_is_logged_with_a_reference_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    runner = JobRunner(metrics)

    def explode() -> None:
        raise RuntimeError("the target vanished")

    with caplog.at_level(logging.ERROR, logger="bot.jobs"):
        assert runner.submit("rehearse", explode).result(timeout=5) is None
    runner.shutdown(timeout=5)
    [record] = caplog.records
    assert record.getMessage().startswith("job rehearse failed [ref E-")
    assert record.exc_info is not None and "the target vanished" in str(record.exc_info[1])
    assert _jobs_total(metrics, "rehearse", "crashed") == 1


def test_shutdown_gives_up_on_a_stuck_job_and_cancels_queued_ones(caplog: pytest.LogCaptureFixture) -> None:
    runner = JobRunner(Metrics(), workers=1)
    started, release = threading.Event(), threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(timeout=30)

    running = runner.submit("stuck", stuck)
    queued = runner.submit("queued", lambda: None)
    assert started.wait(timeout=5)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.jobs"):
            assert runner.shutdown(timeout=0) == 2
        assert queued.cancelled() and not running.done()
        assert "stopping with 2 job(s) unfinished" in caplog.text
    finally:
        release.set()
    assert running.result(timeout=5) is None
