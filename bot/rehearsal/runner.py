"""Runs a rehearsal: the fault proxy up, N runs of the target, a verdict, and cleanup whatever happens."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.rehearsal.analysis import RunResult, Verdict, analyse_run, judge, result_to_json
from bot.rehearsal.ledger import Ledger
from bot.rehearsal.proxy import FaultProxy
from bot.rehearsal.scenario import HttpTarget, Scenario

log = logging.getLogger(__name__)

KILL_GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL for a target's process group
OUTPUT_TAIL_BYTES = 4000


@dataclass(frozen=True)
class Progress:
    """What a watcher (the CLI, the Slack message) is told after each run."""

    rehearsal_id: str
    run: int
    runs: int
    result: RunResult
    elapsed: float


@dataclass
class RehearsalResult:
    scenario: str
    rehearsal_id: str
    status: str  # completed | failed | aborted | interrupted
    verdict: Verdict | None
    runs: list[RunResult]
    journal: list[dict[str, Any]]
    started_at: float
    ended_at: float
    notes: list[str] = field(default_factory=list)
    outputs: dict[int, str] = field(default_factory=dict)  # the end of the target's output, failed runs

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"scenario": self.scenario, "rehearsal_id": self.rehearsal_id,
                                "status": self.status, "notes": self.notes,
                                "duration": round(self.ended_at - self.started_at, 3),
                                "failed_run_output": {str(run): text for run, text in self.outputs.items()}}
        if self.verdict is not None:
            body |= result_to_json(self.runs, self.verdict)
        body["journal"] = self.journal
        return body


@dataclass(frozen=True)
class TargetOutcome:
    exit_code: int | None
    timed_out: bool
    output_tail: str = ""
    aborted: bool = False


class Rehearsal:
    """One rehearsal of one scenario; `run()` blocks until it is over and always cleans up."""

    def __init__(self, scenario: Scenario, *, runs: int | None = None, rehearsal_id: str | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 abort: threading.Event | None = None) -> None:
        self.scenario = scenario
        self.runs = min(runs or scenario.runs, scenario.runs)
        self.rehearsal_id = rehearsal_id or f"r-{secrets.token_hex(4)}"
        self.abort = abort or threading.Event()
        self._on_progress = on_progress or (lambda _: None)
        self.ledger = Ledger()
        self.outputs: dict[int, str] = {}

    def run(self) -> RehearsalResult:
        started = time.monotonic()
        results: list[RunResult] = []
        status, notes = "completed", list[str]()
        try:
            with FaultProxy(self.scenario.upstream, self.scenario.faults, self.ledger) as proxy:
                status, notes = self._run_all(proxy, results, started)
        except OSError as exc:  # the proxy could not listen, the target could not start, …
            status, notes = "failed", [f"IRIS could not run the rehearsal: {exc}"]
        # Declared evidence that was not checked cannot support a pass: the verdict is inconclusive.
        unchecked = self.scenario.evidence is not None
        verdict = judge(self.scenario, results, evidence_unreachable=unchecked) if results else None
        if unchecked:
            notes.append("evidence checks are not available yet in this version of IRIS; they were not run")
        return RehearsalResult(self.scenario.name, self.rehearsal_id, status, verdict, results,
                               self.ledger.to_json(), started, time.monotonic(), notes, self.outputs)

    def _run_all(self, proxy: FaultProxy, results: list[RunResult], started: float) -> tuple[str, list[str]]:
        for number in range(1, self.runs + 1):
            remaining = self.scenario.guardrails.max_duration - (time.monotonic() - started)
            if remaining <= 0:
                return "aborted", [f"stopped by the guardrail max_duration after {number - 1} runs"]
            result = self._one_run(proxy, number, remaining)
            if result is None:  # cut short by an abort: half a run proves nothing either way
                return "aborted", [f"aborted during run {number} of {self.runs}"]
            results.append(result)
            elapsed = time.monotonic() - started
            self._on_progress(Progress(self.rehearsal_id, number, self.runs, result, elapsed))
            stop = self._stop_reason(results, number)
            if stop is not None:
                return "aborted", [stop]
        return "completed", []

    def _stop_reason(self, results: list[RunResult], number: int) -> str | None:
        """Why the rehearsal must not go on after run `number`, if it must not; waits the cooldown."""
        limit = self.scenario.guardrails.stop_after_failed_runs
        failed = sum(1 for result in results if result.outcome != "recovered")
        if limit is not None and failed >= limit:
            return f"stopped by the guardrail stop_after_failed_runs after {failed} failed runs"
        if self.abort.is_set() or (number < self.runs and self.abort.wait(self.scenario.cooldown)):
            return f"aborted after {number} of {self.runs} runs"
        return None

    def _one_run(self, proxy: FaultProxy, number: int, time_left: float) -> RunResult | None:
        proxy.begin_run(number)
        target = self.scenario.target
        env = target.render_env(proxy_url=proxy.url, rehearsal_id=self.rehearsal_id, run=number)
        timeout = min(target.timeout, time_left)
        if target.http is not None:
            outcome = run_http_target(target.http, proxy.url, timeout, self.abort)
        else:
            assert target.command is not None
            outcome = run_command(target.command, target.workdir, env, timeout, self.abort)
        if outcome.aborted:
            return None
        result = analyse_run(self.scenario, number, self.ledger.entries(number), outcome.exit_code,
                             outcome.timed_out, timeout)
        if result.outcome != "recovered" and outcome.output_tail:
            self.outputs[number] = outcome.output_tail
        return result


def run_command(argv: list[str], workdir: Path, env: dict[str, str], timeout: float,
                abort: threading.Event) -> TargetOutcome:
    """Run the target in its own process group; on timeout or abort the whole group is ended."""
    process = subprocess.Popen(argv, cwd=workdir, env=os.environ | env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    output = _OutputTail(process)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline and not abort.is_set():
            abort.wait(0.05)
        still_running = process.poll() is None
    finally:
        end_process_group(process)  # also reaps children the target left behind
        output.join()
    aborted = still_running and abort.is_set()
    return TargetOutcome(None if still_running else process.returncode, still_running and not aborted,
                         output.text(), aborted)


def end_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the target's whole process group, then SIGKILL whatever is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _signal_group(process, sig) or _group_gone_within(process, KILL_GRACE_SECONDS):
            break
    process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> bool:
    """Send `sig` to the group; False when nobody is left in it."""
    process.poll()  # reap the leader if it exited, so only live members count
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return False
    return True


def _group_gone_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _signal_group(process, 0):  # signal 0 only asks whether anyone is there
            return True
        time.sleep(0.02)
    return False


class _OutputTail:
    """Reads the target's output on a thread, keeping only the end, so the pipe never fills up."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._buffer = b""
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        stream = process.stdout
        assert stream is not None
        while chunk := stream.read(4096):  # returns early only at the end of the output
            self._buffer = (self._buffer + chunk)[-OUTPUT_TAIL_BYTES:]

    def join(self) -> None:
        self._thread.join(timeout=5)

    def text(self) -> str:
        return self._buffer.decode("utf-8", "replace")


def run_http_target(target: HttpTarget, proxy_url: str, timeout: float,
                    abort: threading.Event) -> TargetOutcome:
    """Trigger the job over HTTP, then poll until its condition holds (exit 0) or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=min(30.0, timeout)) as client:
        trigger = target.trigger
        try:
            answer = client.request(trigger.method, trigger.url.replace("{proxy_url}", proxy_url),
                                    json=trigger.json_body, headers=trigger.headers)
        except httpx.HTTPError as exc:
            return TargetOutcome(1, False, f"trigger failed: {exc}")
        if target.poll is None:
            return TargetOutcome(0 if answer.is_success else 1, False, answer.text[-OUTPUT_TAIL_BYTES:])
        return _poll(client, target, proxy_url, deadline, abort)


def _poll(client: httpx.Client, target: HttpTarget, proxy_url: str, deadline: float,
          abort: threading.Event) -> TargetOutcome:
    assert target.poll is not None
    url = target.poll.url.replace("{proxy_url}", proxy_url)
    while time.monotonic() < deadline and not abort.is_set():
        try:
            if _poll_done(client.get(url), target):
                return TargetOutcome(0, False)
        except httpx.HTTPError as exc:
            log.info("poll of %s failed: %s", url, exc)
        abort.wait(min(target.poll.every, max(0.0, deadline - time.monotonic())))
    aborted = abort.is_set()
    return TargetOutcome(None, not aborted, "the poll condition was not met in time", aborted)


def _poll_done(answer: httpx.Response, target: HttpTarget) -> bool:
    assert target.poll is not None
    until = target.poll.until
    if until.status is not None and answer.status_code != until.status:
        return False
    if until.json_field is not None:
        try:
            value: Any = answer.json()
            for key in until.json_field.split("."):  # a dotted path such as job.state
                value = value[key]
        except (ValueError, KeyError, TypeError):
            return False
        return bool(value == until.equals)
    return True
