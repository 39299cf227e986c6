"""Analysis: the back-off model, gaps, recovery and run outcomes from hand-built ledgers, and the verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.rehearsals.analysis import (
    GapBounds,
    GapCheck,
    Outcome,
    RunResult,
    analyse_run,
    expected_gap,
    judge,
    result_to_json,
)
from bot.rehearsals.ledger import LedgerEntry
from bot.rehearsals.scenario import Backoff, Expect, RetryExpect, Scenario, Success, Tolerance, parse_scenario

FAULT = "gw-timeout"
START = 100.0
UPSTREAM_LATENCY = 0.25  # binary-exact, so recovery times compare with ==


# The brief's rehearsal, parsed as a scenario file is; variants swap one section of it.
SCENARIO_YAML = """
name: automation-v1.2
runs: 5
target: {command: ["python3", "automation.py", "--env", "qa"], timeout: 10m}
upstream: http://qa-api.internal:8080
faults:
  - id: gw-timeout
    match: {method: POST, path: "/v1/jobs*"}
    respond: {status: 504, body: "injected by IRIS"}
    when: {attempts: [1, 2]}
expect:
  exit_code: 0
  retry:
    on: [502, 503, 504]
    max_attempts: 4
    backoff: {base: 1s, factor: 2, max: 30s, jitter: none, first_retry: nominal}
    honor_retry_after: true
    tolerance: {abs: 250ms, rel: 0.10}
success: {success_rate: 1.0}
"""
SCENARIO = parse_scenario(SCENARIO_YAML, Path("automation-v1.2.yml"))
AUTH_FAULT = """\
  - id: auth-503
    match: {path: "/v1/token"}
    respond: {status: 503}
    when: {attempts: [1]}
"""
TWO_FAULTS = parse_scenario(SCENARIO_YAML.replace("expect:\n", AUTH_FAULT + "expect:\n", 1), Path("two.yml"))


def scenario(*, success: Success | None = None, retry: RetryExpect | None = None) -> Scenario:
    changes: dict[str, Any] = {}
    if success is not None:
        changes["success"] = success
    if retry is not None:
        changes["expect"] = Expect(retry=retry)
    return SCENARIO.model_copy(update=changes)


@dataclass(frozen=True)
class Hit:
    """One request in a hand-built ledger: its status, and how long the client waited before sending it."""

    status: int
    wait: float = 0.0
    retry_after: float | None = None
    injected: bool | None = None  # default: every 5xx here is an injected fault


def attempts(*hits: Hit, fault: str | None = FAULT, run: int = 1, start: float = START) -> list[LedgerEntry]:
    """The ledger of one client's successive requests: each sent `wait` after the previous answer."""
    entries: list[LedgerEntry] = []
    answered = start
    for number, hit in enumerate(hits, start=1):
        injected = hit.status >= 500 if hit.injected is None else hit.injected
        received = answered + hit.wait
        answered = received if injected else received + UPSTREAM_LATENCY
        entries.append(
            LedgerEntry(
                run=run,
                fault_id=fault,
                attempt=number if fault else None,
                method="POST",
                path="/v1/jobs",
                received_at=received,
                responded_at=answered,
                status=hit.status,
                injected=injected,
                retry_after=hit.retry_after,
                upstream_latency=None if injected else UPSTREAM_LATENCY,
                error=None,
            )
        )
    return entries


TEXTBOOK = attempts(Hit(504), Hit(504, wait=1.0), Hit(201, wait=2.0))


# --- expected_gap ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backoff", "retry_number", "low", "high", "nominal"),
    [
        (Backoff(), 1, 0.75, 1.25, (1.0, 1.0)),
        (Backoff(), 2, 1.75, 2.25, (2.0, 2.0)),
        (Backoff(), 3, 3.6, 4.4, (4.0, 4.0)),  # rel 10% of 4 s beats abs 0.25 s
        (Backoff(), 10, 27.0, 33.0, (30.0, 30.0)),  # 512 s capped at max
        (Backoff(), 5000, 27.0, 33.0, (30.0, 30.0)),  # a runaway client cannot overflow the model
        (Backoff(jitter="additive", jitter_max=0.5), 2, 1.75, 2.75, (2.0, 2.5)),
        (Backoff(jitter="full"), 3, 0.0, 4.4, (0.0, 4.0)),
        (Backoff(first_retry="zero"), 1, 0.0, 0.25, (0.0, 0.0)),
        (Backoff(first_retry="zero"), 2, 1.75, 2.25, (2.0, 2.0)),
        (Backoff(base=0.1), 1, 0.0, 0.35, (0.1, 0.1)),  # abs tolerance wider than the gap: low clamps at 0
        (Backoff(base=0.5, factor=3), 3, 4.05, 4.95, (4.5, 4.5)),
    ],
    ids=[
        "none-1",
        "none-2",
        "none-3-rel",
        "cap",
        "overflow",
        "additive",
        "full",
        "zero-first",
        "zero-second",
        "clamp",
        "factor-3",
    ],
)
def test_expected_gap_follows_the_model(
    backoff: Backoff, retry_number: int, low: float, high: float, nominal: tuple[float, float]
) -> None:
    bounds = expected_gap(backoff, retry_number, Tolerance(), None, True)
    assert (bounds.low, bounds.high) == pytest.approx((low, high))
    assert (bounds.nominal_low, bounds.nominal_high) == pytest.approx(nominal)
    assert bounds.source == "model"


@pytest.mark.parametrize(
    ("backoff", "nominal"),
    [
        # urllib3 Retry(backoff_factor=0.2, backoff_max=1): 0, then factor · 2^(n−1), capped
        (Backoff(base=0.2, max=1.0, first_retry="zero"), [(0.0, 0.0), (0.4, 0.4), (0.8, 0.8), (1.0, 1.0)]),
        # tenacity wait_exponential(multiplier=0.2, max=1)
        (Backoff(base=0.2, max=1.0), [(0.2, 0.2), (0.4, 0.4), (0.8, 0.8), (1.0, 1.0)]),
        # stamina wait_initial=0.2, wait_jitter=0.1, wait_max=1
        (Backoff(base=0.2, max=1.0, jitter="additive", jitter_max=0.1), [(0.2, 0.3), (0.4, 0.5), (0.8, 0.9)]),
    ],
    ids=["urllib3", "tenacity", "stamina"],
)
def test_the_model_reproduces_real_retry_libraries(
    backoff: Backoff, nominal: list[tuple[float, float]]
) -> None:
    gaps = [expected_gap(backoff, k, Tolerance(), None, True) for k in range(1, len(nominal) + 1)]
    assert [(g.nominal_low, g.nominal_high) for g in gaps] == [pytest.approx(pair) for pair in nominal]


def test_an_honoured_retry_after_replaces_the_model() -> None:
    bounds = expected_gap(Backoff(), 1, Tolerance(), 3.0, True)
    assert (bounds.low, bounds.high) == pytest.approx((2.7, 3.3))  # 10% of 3 s beats 0.25 s
    assert (bounds.nominal_low, bounds.nominal_high, bounds.source) == (3.0, 3.0, "retry-after")


def test_retry_after_is_ignored_when_the_scenario_says_so() -> None:
    bounds = expected_gap(Backoff(), 1, Tolerance(), 3.0, False)
    assert (bounds.nominal_low, bounds.nominal_high, bounds.source) == (1.0, 1.0, "model")


@pytest.mark.parametrize(
    ("tolerance", "low", "high"),
    [
        (Tolerance(abs=0.5, rel=0.01), 7.5, 8.5),  # abs wins
        (Tolerance(abs=0.05, rel=0.25), 6.0, 10.0),  # rel of the upper bound wins
        (Tolerance(abs=0.0, rel=0.0), 8.0, 8.0),
    ],
)
def test_tolerance_widens_both_ends_by_the_larger_of_abs_and_rel(
    tolerance: Tolerance, low: float, high: float
) -> None:
    bounds = expected_gap(Backoff(), 4, tolerance, None, True)
    assert (bounds.low, bounds.high) == pytest.approx((low, high))


def test_tolerance_is_taken_from_the_upper_bound_of_a_jittered_range() -> None:
    bounds = expected_gap(Backoff(jitter="full"), 4, Tolerance(abs=0.25, rel=0.1), None, True)
    assert bounds.tolerance == pytest.approx(0.8)
    assert (bounds.low, bounds.high) == pytest.approx((0.0, 8.8))


# --- analyse_run ----------------------------------------------------------------------------------


def test_textbook_exponential_back_off_recovers() -> None:
    result = analyse_run(SCENARIO, 1, TEXTBOOK, exit_code=0, timed_out=False)
    assert result.outcome == "recovered" and result.reasons == []
    assert result.recovery == 3.25  # first 504 answered at 100.0, the 201 at 103.25
    assert result.attempts == {FAULT: 3}
    assert [(g.before_attempt, g.gap, g.ok) for g in result.gaps] == [(2, 1.0, True), (3, 2.0, True)]
    assert (result.faults_injected, result.started_at, result.ended_at) == (2, 100.0, 103.25)


def test_a_retry_without_waiting_fails_with_each_gap() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=0.02), Hit(201, wait=0.02), run=3)
    result = analyse_run(SCENARIO, 3, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "failed"
    assert result.reasons == [
        "run 3: gap before attempt 2 was 0.02 s, expected 1.00–1.00 s ±0.25 s",
        "run 3: gap before attempt 3 was 0.02 s, expected 2.00–2.00 s ±0.25 s",
    ]
    assert [g.ok for g in result.gaps] == [False, False]


def test_linear_back_off_is_caught_at_the_first_gap_that_should_have_grown() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=1.0), Hit(504, wait=1.0), Hit(201, wait=1.0))
    result = analyse_run(SCENARIO, 1, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "failed"
    assert result.reasons[0] == "run 1: gap before attempt 3 was 1.00 s, expected 2.00–2.00 s ±0.25 s"
    assert result.reasons[1] == "run 1: gap before attempt 4 was 1.00 s, expected 4.00–4.00 s ±0.40 s"
    assert [g.ok for g in result.gaps] == [True, False, False]


def test_more_attempts_than_allowed_fails_even_when_it_recovers() -> None:
    ledger = attempts(
        Hit(504), Hit(504, wait=1.0), Hit(504, wait=2.0), Hit(504, wait=4.0), Hit(201, wait=8.0), run=2
    )
    result = analyse_run(SCENARIO, 2, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "failed"
    assert result.reasons == ["run 2: 5 attempts on gw-timeout, max_attempts is 4"]
    assert all(g.ok for g in result.gaps) and result.recovery == 15.25


def test_ignoring_retry_after_fails_and_says_retry_after_set_the_bound() -> None:
    ledger = attempts(Hit(503, retry_after=3.0), Hit(201, wait=1.0))
    result = analyse_run(SCENARIO, 1, ledger, exit_code=0, timed_out=False)
    assert result.reasons == [
        "run 1: gap before attempt 2 was 1.00 s, expected 3.00–3.00 s ±0.30 s (Retry-After)"
    ]
    assert result.gaps[0].bounds.source == "retry-after"


def test_honouring_retry_after_passes() -> None:
    ledger = attempts(Hit(503, retry_after=3.0), Hit(201, wait=3.0))
    result = analyse_run(SCENARIO, 1, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "recovered" and result.recovery == 3.25


def test_urllib3_style_immediate_first_retry_passes_with_first_retry_zero() -> None:
    urllib3 = scenario(retry=RetryExpect(backoff=Backoff(base=0.5, first_retry="zero")))
    ledger = attempts(Hit(503), Hit(503, wait=0.0), Hit(200, wait=1.0))
    result = analyse_run(urllib3, 1, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "recovered"
    assert [(g.bounds.nominal_high, g.ok) for g in result.gaps] == [(0.0, True), (1.0, True)]


def test_retry_after_is_judged_by_the_model_when_not_honoured() -> None:
    quiet = scenario(retry=RetryExpect(honor_retry_after=False))
    ledger = attempts(Hit(503, retry_after=3.0), Hit(201, wait=1.0))
    assert analyse_run(quiet, 1, ledger, exit_code=0, timed_out=False).outcome == "recovered"


def test_giving_up_after_one_retry_fails_with_exit_code_and_reason() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=1.0), run=4)
    result = analyse_run(SCENARIO, 4, ledger, exit_code=1, timed_out=False)
    assert result.outcome == "failed" and result.recovery is None
    assert result.reasons == [
        "run 4: exit code 1, expected 0",
        "run 4: gave up after 2 attempts while 4 were allowed",
    ]


def test_exhausting_every_attempt_without_a_2xx_is_not_giving_up_early() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=1.0), Hit(504, wait=2.0), Hit(504, wait=4.0))
    result = analyse_run(SCENARIO, 1, ledger, exit_code=1, timed_out=False)
    assert result.reasons == [
        "run 1: exit code 1, expected 0",
        "run 1: no 2xx on gw-timeout after the injected faults, last status 504",
    ]


def test_an_unreachable_upstream_is_named_as_the_cause_in_the_run_and_first_in_the_verdict() -> None:
    # The proxy could not forward after the injected faults and answered 502 itself (its ledger error).
    ledger = attempts(Hit(504), Hit(504, wait=1.0), Hit(502, wait=2.0, injected=False), Hit(502, wait=4.0))
    cause = "upstream unreachable: cannot connect to qa-api.internal:8080: Connection refused"
    ledger[2:] = [replace(entry, injected=False, error=cause) for entry in ledger[2:]]
    result = analyse_run(SCENARIO, 1, ledger, exit_code=1, timed_out=False)
    assert result.upstream_error == cause
    assert result.reasons[-1] == f"run 1: {cause}, so no 2xx on gw-timeout after the injected faults"
    verdict = judge(SCENARIO, [result])
    assert verdict.verdict == "fail"
    assert verdict.reasons[0] == f"{cause}; check that http://qa-api.internal:8080 is running"


def test_a_non_zero_exit_fails_a_run_whose_retries_were_right() -> None:
    result = analyse_run(SCENARIO, 1, TEXTBOOK, exit_code=1, timed_out=False)
    assert result.outcome == "failed"
    assert result.reasons == ["run 1: exit code 1, expected 0"]
    assert result.recovery == 3.25 and all(g.ok for g in result.gaps)


def test_a_timed_out_run_names_the_limit_and_does_not_call_it_giving_up() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=1.0), run=3)
    result = analyse_run(SCENARIO, 3, ledger, exit_code=None, timed_out=True)
    assert (result.outcome, result.exit_code, result.timed_out) == ("timeout", None, True)
    assert result.reasons == ["run 3: timed out after 10 min 00 s"]
    assert result.recovery is None


def test_a_timed_out_run_keeps_the_back_off_reasons_seen_before_the_kill() -> None:
    ledger = attempts(Hit(504), Hit(504, wait=0.02), run=3)
    result = analyse_run(SCENARIO, 3, ledger, exit_code=None, timed_out=True)
    assert result.reasons == [
        "run 3: timed out after 10 min 00 s",
        "run 3: gap before attempt 2 was 0.02 s, expected 1.00–1.00 s ±0.25 s",
    ]


def test_the_timeout_actually_applied_overrides_the_targets() -> None:
    result = analyse_run(SCENARIO, 3, [], exit_code=None, timed_out=True, timeout=90.0)
    assert result.reasons == ["run 3: timed out after 1 min 30 s"]


def test_requests_matching_no_fault_are_not_attempts() -> None:
    faulted = attempts(Hit(504), Hit(504, wait=1.0), Hit(201, wait=2.0))
    health = attempts(Hit(200), Hit(200, wait=0.5), Hit(200, wait=0.5), fault=None, start=99.0)
    ledger = sorted(faulted + health, key=lambda e: e.received_at)
    result = analyse_run(SCENARIO, 1, ledger, exit_code=0, timed_out=False)
    assert result.outcome == "recovered" and result.attempts == {FAULT: 3}
    assert [g.gap for g in result.gaps] == [1.0, 2.0]
    assert result.started_at == 99.0  # the run's span still covers every request


def test_entries_of_other_runs_are_left_out() -> None:
    other = attempts(Hit(504), Hit(201, wait=0.01), run=2, start=50.0)
    result = analyse_run(SCENARIO, 1, other + TEXTBOOK, exit_code=0, timed_out=False)
    assert result.attempts == {FAULT: 3} and result.faults_injected == 2 and result.started_at == 100.0


def test_a_retry_after_a_status_not_in_retry_on_is_reported() -> None:
    ledger = attempts(Hit(504), Hit(201, wait=1.0), Hit(201, wait=0.0), run=2)
    result = analyse_run(SCENARIO, 2, ledger, exit_code=0, timed_out=False)
    assert result.reasons == ["run 2: attempt 3 retried after 201, which is not in retry.on"]
    assert len(result.gaps) == 1  # no back-off model applies to the request after the 201


def test_two_faults_are_counted_apart_and_the_slowest_recovery_counts() -> None:
    jobs = attempts(Hit(504), Hit(504, wait=1.0), Hit(201, wait=2.0))
    auth = attempts(Hit(503), Hit(200, wait=0.1), fault="auth-503", start=110.0)
    result = analyse_run(TWO_FAULTS, 1, jobs + auth, exit_code=0, timed_out=False)
    assert result.attempts == {FAULT: 3, "auth-503": 2} and result.faults_injected == 3
    assert result.recovery == 3.25
    assert result.reasons == [
        "run 1: gap before attempt 2 on auth-503 was 0.10 s, expected 1.00–1.00 s ±0.25 s"
    ]
    assert [g.fault_id for g in result.gaps] == [FAULT, FAULT, "auth-503"]


def test_a_run_is_not_recovered_while_one_of_two_faults_never_saw_a_2xx() -> None:
    jobs = attempts(Hit(504), Hit(201, wait=1.0))
    auth = attempts(
        Hit(503), Hit(503, wait=1.0), Hit(503, wait=2.0), Hit(503, wait=4.0), fault="auth-503", start=110.0
    )
    result = analyse_run(TWO_FAULTS, 1, jobs + auth, exit_code=0, timed_out=False)
    assert result.outcome == "failed" and result.recovery is None
    assert result.reasons == ["run 1: no 2xx on auth-503 after the injected faults, last status 503"]


def test_a_run_without_injections_recovers_with_no_recovery_time() -> None:
    result = analyse_run(SCENARIO, 1, attempts(Hit(201)), exit_code=0, timed_out=False)
    assert (result.outcome, result.recovery, result.faults_injected) == ("recovered", None, 0)


# --- judge ----------------------------------------------------------------------------------------


def run_result(
    run: int,
    outcome: Outcome = "recovered",
    recovery: float | None = 3.0,
    reasons: list[str] | None = None,
    gaps_ok: tuple[bool, ...] = (True, True),
) -> RunResult:
    """A run as analyse_run would report it: three attempts, two gaps of 1 s, two faults injected."""
    bounds = GapBounds(0.75, 1.25, 1.0, 1.0, "model")
    gaps = [GapCheck(FAULT, n + 2, 1.0, bounds, ok) for n, ok in enumerate(gaps_ok)]
    return RunResult(
        run, outcome, 0, outcome == "timeout", {FAULT: 3}, gaps, recovery, 2, reasons or [], START, START + 10
    )


def test_all_runs_recovered_within_bounds_pass_with_exact_stats() -> None:
    results = [run_result(1, recovery=3.0), run_result(2, recovery=8.0), run_result(3, recovery=4.0)]
    verdict = judge(SCENARIO, results)
    assert (verdict.verdict, verdict.reasons) == ("pass", [])
    assert (verdict.runs, verdict.recovered, verdict.success_rate) == (3, 3, 1.0)
    assert (verdict.recovery_mean, verdict.recovery_median, verdict.recovery_max) == (5.0, 4.0, 8.0)
    assert (verdict.backoff_ok, verdict.backoff_total, verdict.faults_injected) == (6, 6, 6)


def test_stats_cover_recovered_runs_only_and_the_median_of_an_even_count_is_the_midpoint() -> None:
    results = [
        run_result(1, recovery=2.0),
        run_result(2, recovery=6.0),
        run_result(3, recovery=3.0),
        run_result(4, recovery=5.0),
        run_result(5, "failed", recovery=100.0, reasons=["run 5: exit code 1, expected 0"]),
    ]
    verdict = judge(scenario(success=Success(success_rate=0.8)), results)
    assert verdict.verdict == "pass" and verdict.success_rate == 0.8  # 80% meets 80%
    assert (verdict.recovery_mean, verdict.recovery_median, verdict.recovery_max) == (4.0, 4.0, 6.0)


def test_a_low_success_rate_fails_with_the_failed_runs_reasons() -> None:
    results = [run_result(n) for n in (1, 2, 4, 5)]
    bad_gap = "run 3: gap before attempt 3 was 0.02 s, expected 2.00–2.00 s ±0.25 s"
    results.insert(2, run_result(3, "failed", reasons=[bad_gap], gaps_ok=(True, False)))
    verdict = judge(SCENARIO, results)
    assert verdict.verdict == "fail"
    assert verdict.reasons == ["success rate 80% is below 100%", bad_gap]
    assert (verdict.backoff_ok, verdict.backoff_total) == (9, 10)


def test_slow_recovery_breaches_both_recovery_thresholds() -> None:
    strict = scenario(success=Success(recovery_max=240.0, recovery_mean_max=210.0))
    verdict = judge(strict, [run_result(1, recovery=190.0), run_result(2, recovery=250.0)])
    assert verdict.verdict == "fail"
    assert verdict.reasons == [
        "max recovery 4 min 10 s exceeds 4 min 00 s",
        "mean recovery 3 min 40 s exceeds 3 min 30 s",
    ]


def test_recovery_exactly_at_the_limits_passes() -> None:
    limits = scenario(success=Success(recovery_max=240.0, recovery_mean_max=210.0))
    assert judge(limits, [run_result(1, recovery=180.0), run_result(2, recovery=240.0)]).verdict == "pass"


def test_timeouts_count_against_the_success_rate() -> None:
    timed_out = run_result(2, "timeout", recovery=None, reasons=["run 2: timed out after 10 min 00 s"])
    results = [run_result(1), timed_out]
    verdict = judge(SCENARIO, results)
    assert verdict.reasons == ["success rate 50% is below 100%", "run 2: timed out after 10 min 00 s"]


def test_unreachable_evidence_makes_a_passing_rehearsal_inconclusive() -> None:
    verdict = judge(SCENARIO, [run_result(1)], evidence_unreachable=True)
    assert verdict.verdict == "inconclusive"
    assert verdict.reasons == ["an evidence back end could not be reached"]


def test_unreachable_evidence_does_not_soften_a_failure() -> None:
    verdict = judge(
        SCENARIO,
        [run_result(1, "failed", reasons=["run 1: exit code 1, expected 0"])],
        evidence_unreachable=True,
    )
    assert verdict.verdict == "fail" and "run 1: exit code 1, expected 0" in verdict.reasons


def test_no_runs_is_a_failure_not_a_division_by_zero() -> None:
    verdict = judge(SCENARIO, [])
    assert (verdict.verdict, verdict.reasons, verdict.success_rate) == ("fail", ["no run was completed"], 0.0)
    assert verdict.recovery_mean is None


def test_fractional_percentages_are_not_rounded_into_a_pass() -> None:
    results = [run_result(n) for n in range(1, 200)] + [run_result(200, "failed", reasons=["run 200: x"])]
    verdict = judge(scenario(success=Success(success_rate=0.999)), results)
    assert verdict.reasons[0] == "success rate 99.5% is below 99.9%"


# --- result_to_json -------------------------------------------------------------------------------


def test_the_json_result_is_plain_json_with_every_run_and_gap() -> None:
    results = [
        analyse_run(SCENARIO, 1, TEXTBOOK, 0, False),
        analyse_run(SCENARIO, 2, attempts(Hit(504), Hit(504, wait=1.0), run=2), 1, False),
    ]
    body = json.loads(json.dumps(result_to_json(results, judge(SCENARIO, results)), allow_nan=False))
    assert body["verdict"] == "fail" and body["success_rate"] == 0.5 and body["faults_injected"] == 4
    assert (body["recovery_mean"], body["backoff_ok"], body["backoff_total"]) == (3.25, 3, 3)
    assert [run["outcome"] for run in body["runs"]] == ["recovered", "failed"]
    assert body["runs"][0]["attempts"] == {FAULT: 3} and body["runs"][0]["recovery"] == 3.25
    assert body["runs"][0]["gaps"][1] == {
        "fault_id": FAULT,
        "before_attempt": 3,
        "gap": 2.0,
        "ok": True,
        "bounds": {"low": 1.75, "high": 2.25, "nominal_low": 2.0, "nominal_high": 2.0, "source": "model"},
    }


def test_the_json_result_leaves_the_runners_keys_alone() -> None:
    body = result_to_json([run_result(1)], judge(SCENARIO, [run_result(1)]))
    assert not {"status", "journal", "scenario", "notes", "duration"} & body.keys()
