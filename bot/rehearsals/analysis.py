"""Pure analysis of a rehearsal's ledger: the back-off model, gaps, recovery, run outcomes, the verdict."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from bot.durations import format_duration
from bot.rehearsals.ledger import UPSTREAM_UNREACHABLE

if TYPE_CHECKING:
    from bot.rehearsals.ledger import LedgerEntry
    from bot.rehearsals.scenario import Backoff, RetryExpect, Scenario, Success, Tolerance

GapSource = Literal["model", "retry-after"]
Outcome = Literal["recovered", "failed", "timeout"]
VerdictKind = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class GapBounds:
    """The gap allowed before one retry: the nominal range, and that range widened by the tolerance."""

    low: float
    high: float
    nominal_low: float
    nominal_high: float
    source: GapSource

    @property
    def tolerance(self) -> float:
        return self.high - self.nominal_high


@dataclass(frozen=True)
class GapCheck:
    fault_id: str
    before_attempt: int
    gap: float
    bounds: GapBounds
    ok: bool


@dataclass(frozen=True)
class RunResult:
    run: int
    outcome: Outcome
    exit_code: int | None
    timed_out: bool
    attempts: dict[str, int]  # per fault id, only faults whose match saw a request
    gaps: list[GapCheck]
    recovery: float | None  # seconds; None unless every fault that injected saw a 2xx afterwards
    faults_injected: int
    reasons: list[str]
    started_at: float | None  # first request received in this run (monotonic), None without requests
    ended_at: float | None
    upstream_error: str | None = None  # the proxy's first "upstream unreachable: …" in this run


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictKind
    reasons: list[str]  # empty on pass
    runs: int
    recovered: int
    success_rate: float
    recovery_mean: float | None
    recovery_median: float | None
    recovery_max: float | None
    backoff_ok: int
    backoff_total: int
    faults_injected: int


def expected_gap(
    backoff: Backoff,
    retry_number: int,
    tolerance: Tolerance,
    retry_after: float | None,
    honor_retry_after: bool,
) -> GapBounds:
    """Bounds for the gap before retry `retry_number` (1 is the gap before attempt 2)."""
    if honor_retry_after and retry_after is not None:
        return _widen(retry_after, retry_after, tolerance, "retry-after")
    low, high = _model_range(backoff, retry_number)
    return _widen(low, high, tolerance, "model")


def _model_range(backoff: Backoff, retry_number: int) -> tuple[float, float]:
    if backoff.first_retry == "zero" and retry_number == 1:  # urllib3 retries the first time at once
        return 0.0, 0.0
    delay = _nominal_delay(backoff, retry_number)
    if backoff.jitter == "additive":
        return delay, delay + backoff.jitter_max
    if backoff.jitter == "full":
        return 0.0, delay
    return delay, delay


def _nominal_delay(backoff: Backoff, retry_number: int) -> float:
    try:
        raw = backoff.base * backoff.factor ** (retry_number - 1)
    except OverflowError:  # a runaway client can make thousands of attempts; the cap still applies
        raw = math.inf
    return min(backoff.max, raw)


def _widen(low: float, high: float, tolerance: Tolerance, source: GapSource) -> GapBounds:
    tol = max(tolerance.abs, tolerance.rel * high)
    return GapBounds(max(0.0, low - tol), high + tol, low, high, source)


@dataclass(frozen=True)
class _FaultFindings:
    gaps: list[GapCheck]
    reasons: list[str]
    injected: bool
    recovery: float | None  # None when it injected and no 2xx followed, or when it never injected


def analyse_run(
    scenario: Scenario,
    run: int,
    entries: Sequence[LedgerEntry],
    exit_code: int | None,
    timed_out: bool,
    timeout: float | None = None,
) -> RunResult:
    """Judge one run from its ledger; `timeout` is the limit actually applied (default: the target's)."""
    mine = [entry for entry in entries if entry.run == run]
    several = len(scenario.faults) > 1
    reasons = _target_reasons(scenario, run, exit_code, timed_out, timeout)
    attempts: dict[str, int] = {}
    gaps: list[GapCheck] = []
    findings: list[_FaultFindings] = []
    for fault in scenario.faults:
        tries = _attempts_on(mine, fault.id)
        if not tries:
            continue
        attempts[fault.id] = len(tries)
        found = _analyse_fault(scenario.expect.retry, run, fault.id, tries, timed_out, several)
        gaps += found.gaps
        reasons += found.reasons
        findings.append(found)
    outcome: Outcome = "timeout" if timed_out else "failed" if reasons else "recovered"
    return RunResult(
        run,
        outcome,
        exit_code,
        timed_out,
        attempts,
        gaps,
        _run_recovery(findings),
        sum(1 for e in mine if e.injected),
        reasons,
        min((e.received_at for e in mine), default=None),
        max((e.responded_at for e in mine), default=None),
        next((e.error for e in mine if _unreachable(e)), None),
    )


def _unreachable(entry: LedgerEntry) -> bool:
    """The proxy answered 502 itself because the upstream could not be reached."""
    return entry.error is not None and entry.error.startswith(UPSTREAM_UNREACHABLE)


def _attempts_on(entries: list[LedgerEntry], fault_id: str) -> list[LedgerEntry]:
    on_fault = [entry for entry in entries if entry.fault_id == fault_id]
    return sorted(on_fault, key=lambda entry: (entry.attempt or 0, entry.received_at))


def _target_reasons(
    scenario: Scenario, run: int, exit_code: int | None, timed_out: bool, timeout: float | None
) -> list[str]:
    if timed_out:  # killed: its exit code says nothing about the script
        limit = scenario.target.timeout if timeout is None else timeout
        return [f"run {run}: timed out after {format_duration(limit)}"]
    expected = scenario.expect.exit_code
    if exit_code is not None and exit_code != expected:  # HTTP targets have no exit code
        return [f"run {run}: exit code {exit_code}, expected {expected}"]
    return []


def _analyse_fault(
    retry: RetryExpect, run: int, fault_id: str, tries: list[LedgerEntry], timed_out: bool, several: bool
) -> _FaultFindings:
    on = f" on {fault_id}" if several else ""  # with one fault, naming it adds nothing
    gaps, reasons = _check_retries(retry, run, fault_id, tries, on)
    if len(tries) > retry.max_attempts:
        reasons.append(
            f"run {run}: {len(tries)} attempts on {fault_id}, max_attempts is {retry.max_attempts}"
        )
    injected = [i for i, entry in enumerate(tries) if entry.injected]
    if not injected:
        return _FaultFindings(gaps, reasons, False, None)
    healed = any(_is_2xx(entry.status) for entry in tries[injected[-1] + 1 :])
    if not healed and not timed_out:  # a killed target did not give up, it was stopped
        reasons.append(_unrecovered_reason(retry, run, fault_id, tries, on))
    if not healed:
        return _FaultFindings(gaps, reasons, True, None)
    first_ok = next(e for e in tries[injected[0] + 1 :] if _is_2xx(e.status))
    return _FaultFindings(gaps, reasons, True, first_ok.responded_at - tries[injected[0]].responded_at)


def _check_retries(
    retry: RetryExpect, run: int, fault_id: str, tries: list[LedgerEntry], on: str
) -> tuple[list[GapCheck], list[str]]:
    gaps: list[GapCheck] = []
    reasons: list[str] = []
    for attempt, (before, after) in enumerate(pairwise(tries), start=2):
        if before.status not in retry.on:  # no back-off model applies to a retry that should not be
            reasons.append(
                f"run {run}: attempt {attempt}{on} retried after {before.status}, which is not in retry.on"
            )
            continue
        bounds = expected_gap(
            retry.backoff, attempt - 1, retry.tolerance, before.retry_after, retry.honor_retry_after
        )
        gap = after.received_at - before.responded_at
        check = GapCheck(fault_id, attempt, gap, bounds, bounds.low <= gap <= bounds.high)
        gaps.append(check)
        if not check.ok:
            reasons.append(_gap_reason(run, check, on))
    return gaps, reasons


def _gap_reason(run: int, check: GapCheck, on: str) -> str:
    bounds = check.bounds
    why = " (Retry-After)" if bounds.source == "retry-after" else ""
    return (
        f"run {run}: gap before attempt {check.before_attempt}{on} was {check.gap:.2f} s, expected "
        f"{bounds.nominal_low:.2f}–{bounds.nominal_high:.2f} s ±{bounds.tolerance:.2f} s{why}"
    )


def _unrecovered_reason(
    retry: RetryExpect, run: int, fault_id: str, tries: list[LedgerEntry], on: str
) -> str:
    last = tries[-1]
    if _unreachable(last):  # the 502 is the proxy's own: say why, not only the status
        return f"run {run}: {last.error}, so no 2xx on {fault_id} after the injected faults"
    if last.status in retry.on and len(tries) < retry.max_attempts:
        return f"run {run}: gave up after {len(tries)} attempts{on} while {retry.max_attempts} were allowed"
    return f"run {run}: no 2xx on {fault_id} after the injected faults, last status {last.status}"


def _run_recovery(findings: list[_FaultFindings]) -> float | None:
    """The slowest fault's recovery, since the run has recovered only once every fault has."""
    injected = [found for found in findings if found.injected]
    times = [found.recovery for found in injected if found.recovery is not None]
    return max(times) if injected and len(times) == len(injected) else None


def _is_2xx(status: int) -> bool:
    return 200 <= status < 300


def judge(scenario: Scenario, results: Sequence[RunResult], evidence_unreachable: bool = False) -> Verdict:
    """The rehearsal's verdict over the runs that were run, against the scenario's success criteria."""
    recovered = [result for result in results if result.outcome == "recovered"]
    times = [result.recovery for result in recovered if result.recovery is not None]
    rate = len(recovered) / len(results) if results else 0.0
    mean = statistics.fmean(times) if times else None
    longest = max(times) if times else None
    breaches = _breaches(scenario.success, len(results), rate, mean, longest)
    unreachable = next((result.upstream_error for result in results if result.upstream_error), None)
    if unreachable is not None:  # the cause a person must fix comes first, before its symptoms
        breaches.insert(0, f"{unreachable}; check that {scenario.upstream} is running")
    if results and scenario.faults and not any(result.faults_injected for result in results):
        # Nothing was tested: most likely faults[].match never saw the target's requests.
        breaches.append(
            "no fault was injected in any run; check that faults[].match fits the target's requests"
        )
    kind: VerdictKind = "fail" if breaches else "inconclusive" if evidence_unreachable else "pass"
    checks = [gap for result in results for gap in result.gaps]
    return Verdict(
        kind,
        _verdict_reasons(kind, breaches, results),
        len(results),
        len(recovered),
        rate,
        mean,
        statistics.median(times) if times else None,
        longest,
        sum(1 for gap in checks if gap.ok),
        len(checks),
        sum(result.faults_injected for result in results),
    )


def _verdict_reasons(kind: VerdictKind, breaches: list[str], results: Sequence[RunResult]) -> list[str]:
    if kind == "inconclusive":
        return ["an evidence back end could not be reached"]
    failed = [reason for result in results if result.outcome != "recovered" for reason in result.reasons]
    return breaches + failed if kind == "fail" else []


def _breaches(
    success: Success, runs: int, rate: float, mean: float | None, longest: float | None
) -> list[str]:
    if runs == 0:
        return ["no run was completed"]
    breaches = []
    if rate < success.success_rate:
        breaches.append(f"success rate {_percent(rate)} is below {_percent(success.success_rate)}")
    if longest is not None and success.recovery_max is not None and longest > success.recovery_max:
        breaches.append(
            f"max recovery {format_duration(longest)} exceeds {format_duration(success.recovery_max)}"
        )
    if mean is not None and success.recovery_mean_max is not None and mean > success.recovery_mean_max:
        breaches.append(
            f"mean recovery {format_duration(mean)} exceeds {format_duration(success.recovery_mean_max)}"
        )
    return breaches


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"  # "80%", "99.5%": whole percents would hide a 99.5% below 99.9%


def result_to_json(results: Sequence[RunResult], verdict: Verdict) -> dict[str, Any]:
    """The verdict's figures and every run (attempts, gaps with their bounds, recovery) as plain JSON."""
    body = asdict(verdict)
    del body["runs"]  # the count is len(body["runs"]) below; one key, one meaning
    return body | {"runs": [asdict(result) for result in results]}
