"""Runs a rehearsal: the fault proxy up, N runs of the target, a verdict, and cleanup whatever happens."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from bot.rehearsals.analysis import RunResult, Verdict, analyse_run, judge, result_to_json
from bot.rehearsals.evidence import EvidenceChecker, EvidenceReport
from bot.rehearsals.ledger import Ledger
from bot.rehearsals.proxy import FaultProxy
from bot.rehearsals.scenario import Scenario
from bot.rehearsals.targets import MARKER_ENV, kill_leftover_targets, run_command, run_http_target

log = logging.getLogger(__name__)


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
    evidence: dict[str, Any] | None = None
    environment: str = ""  # the scenario's, such as "qa"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "scenario": self.scenario,
            "environment": self.environment,
            "rehearsal_id": self.rehearsal_id,
            "status": self.status,
            "notes": self.notes,
            "duration": round(self.ended_at - self.started_at, 3),
            "failed_run_output": {str(run): text for run, text in self.outputs.items()},
            "evidence": self.evidence,
        }
        if self.verdict is not None:
            body |= result_to_json(self.runs, self.verdict)
        body["journal"] = self.journal
        return body


class Rehearsal:
    """One rehearsal of one scenario; `run()` blocks until it is over and always cleans up."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        runs: int | None = None,
        rehearsal_id: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        abort: threading.Event | None = None,
        alertmanager_url: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.alertmanager_url = alertmanager_url
        self.runs = min(runs or scenario.runs, scenario.runs)
        self.rehearsal_id = rehearsal_id or f"r-{secrets.token_hex(4)}"
        self.abort = abort or threading.Event()
        self._on_progress = on_progress or (lambda _: None)
        self.ledger = Ledger()
        self.outputs: dict[int, str] = {}
        self.interrupted = False  # set with interrupt(): stopped by IRIS shutting down, not by a person

    def interrupt(self) -> None:
        self.interrupted = True
        self.abort.set()

    def run(self) -> RehearsalResult:
        started, wall_started = time.monotonic(), time.time()
        results: list[RunResult] = []
        status, notes = "completed", list[str]()
        evidence: EvidenceReport | None = None
        with self._evidence_checker() as checker:
            try:
                if checker is not None:
                    checker.baseline(wall_started)
                with FaultProxy(self.scenario.upstream, self.scenario.faults, self.ledger) as proxy:
                    status, notes = self._run_all(proxy, results, started)
            except OSError as exc:  # the proxy could not listen, the target could not start, …
                status, notes = "failed", [f"IRIS could not run the rehearsal: {exc}"]
            if checker is not None and results and status == "completed":
                evidence = checker.check(wall_started, time.time(), self.ledger.faults_injected())
        if status == "completed" and self.abort.is_set():  # aborted while the evidence was checked
            status, evidence, notes = "aborted", None, [*notes, "aborted while checking the evidence"]
        if status == "aborted" and self.interrupted:
            status = "interrupted"
        # Only a rehearsal that ran to its end has a verdict; partial figures stay in the runs.
        verdict = self._verdict(results, evidence) if status == "completed" else None
        return RehearsalResult(
            self.scenario.name,
            self.rehearsal_id,
            status,
            verdict,
            results,
            self.ledger.to_json(),
            started,
            time.monotonic(),
            notes,
            self.outputs,
            evidence.to_json() if evidence else None,
            self.scenario.environment,
        )

    @contextmanager
    def _evidence_checker(self) -> Iterator[EvidenceChecker | None]:
        if self.scenario.evidence is None:
            yield None
            return
        # Waiting on the abort event: an abort cuts the settle time and the polls short.
        checker = EvidenceChecker(
            self.scenario.evidence, alertmanager_url=self.alertmanager_url, sleep=self._pause
        )
        try:
            yield checker
        finally:
            checker.close()

    def _pause(self, seconds: float) -> None:
        self.abort.wait(seconds)

    def _verdict(self, results: list[RunResult], evidence: EvidenceReport | None) -> Verdict | None:
        """The analysis verdict; evidence that disagrees fails it, evidence not had makes it inconclusive."""
        if not results:
            return None
        unchecked = self.scenario.evidence is not None and (evidence is None or evidence.unreachable)
        verdict = judge(self.scenario, results, evidence_unreachable=unchecked)
        disagreeing = evidence.failed if evidence else []
        if disagreeing:
            reasons = [*verdict.reasons, *(f"evidence {check.detail}" for check in disagreeing)]
            verdict = replace(verdict, verdict="fail", reasons=reasons)
        elif unchecked and verdict.verdict == "inconclusive" and evidence is not None:
            verdict = replace(verdict, reasons=[c.detail for c in evidence.results if c.ok is None])
        return verdict

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
        env[MARKER_ENV] = self.rehearsal_id  # lets a restarted IRIS find what a crashed one left running
        timeout = min(target.timeout, time_left)
        if target.http is not None:
            outcome = run_http_target(target.http, proxy.url, timeout, self.abort)
        else:
            assert target.command is not None
            outcome = run_command(target.command, target.workdir, env, timeout, self.abort)
            kill_leftover_targets(self.rehearsal_id)  # children that left the process group (setsid)
        if outcome.aborted:
            return None
        result = analyse_run(
            self.scenario, number, self.ledger.entries(number), outcome.exit_code, outcome.timed_out, timeout
        )
        if result.outcome != "recovered" and outcome.output_tail:
            self.outputs[number] = outcome.output_tail
        return result
