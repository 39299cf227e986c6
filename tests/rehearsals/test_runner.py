"""The rehearsal runner against real retry implementations, through the real fault proxy."""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.rehearsals.runner import Rehearsal, RehearsalResult
from bot.rehearsals.scenario import load_scenario
from tests.rehearsals.standins import PrometheusStandin

TARGETS = Path(__file__).with_name("targets")
NOMINAL = "{base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}"
URLLIB3 = "{base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: zero}"
STAMINA = "{base: 200ms, factor: 2, max: 1s, jitter: additive, jitter_max: 100ms, first_retry: nominal}"


def write_scenario(
    folder: Path,
    upstream: str,
    script: str,
    backoff: str = NOMINAL,
    *,
    runs: int = 2,
    attempts: str = "[1, 2]",
    honor_retry_after: bool = True,
    fault_headers: str = "{}",
    timeout: str = "30s",
    extra: str = "",
) -> Path:
    path = folder / f"{Path(script).stem}.yml"
    path.write_text(f"""
name: {Path(script).stem.replace("_", "-")}
runs: {runs}
target:
  command: ["{sys.executable}", "{TARGETS / script}"]
  env: {{API_URL: "{{proxy_url}}", TARGET_LOG: "{folder / "target.log"}", RUN: "{{run}}"}}
  timeout: {timeout}
upstream: {upstream}
faults:
  - id: gw-timeout
    match: {{method: POST, path: "/v1/jobs*"}}
    respond: {{status: 504, headers: {fault_headers}, body: "injected by IRIS"}}
    when: {{attempts: {attempts}}}
expect:
  retry:
    on: [502, 503, 504]
    max_attempts: 4
    backoff: {backoff}
    honor_retry_after: {str(honor_retry_after).lower()}
    tolerance: {{abs: 60ms, rel: 0.05}}
{extra}
""")
    return path


def rehearse(path: Path) -> RehearsalResult:
    return Rehearsal(load_scenario(path)).run()


@pytest.mark.parametrize(
    ("script", "backoff", "honor"),
    [
        ("tenacity_retry.py", NOMINAL, False),
        ("urllib3_retry.py", URLLIB3, True),
        ("stamina_retry.py", STAMINA, False),
    ],
)
def test_real_retry_libraries_pass_with_their_own_model(
    tmp_path: Path, upstream: str, script: str, backoff: str, honor: bool
) -> None:
    result = rehearse(write_scenario(tmp_path, upstream, script, backoff, honor_retry_after=honor))
    assert result.status == "completed"
    assert result.verdict is not None and result.verdict.verdict == "pass", result.verdict
    assert [run.outcome for run in result.runs] == ["recovered", "recovered"]
    assert result.verdict.faults_injected == 4
    assert result.verdict.backoff_ok == result.verdict.backoff_total == 4


@pytest.mark.parametrize(
    ("script", "options", "reason"),
    [
        ("retry_no_wait.py", {}, "run 1: gap before attempt 2 was 0.0"),
        ("retry_linear.py", {}, "run 1: gap before attempt 3 was 0.2"),
        (
            "retry_too_many.py",
            {"attempts": "[1, 2, 3, 4, 5]"},
            "run 1: 6 attempts on gw-timeout, max_attempts is 4",
        ),
        ("retry_ignores_retry_after.py", {"fault_headers": "{Retry-After: '1'}"}, "(Retry-After)"),
        ("retry_gives_up_early.py", {}, "run 1: gave up after 2 attempts while 4 were allowed"),
        ("exits_nonzero.py", {}, "run 1: exit code 3, expected 0"),
    ],
)
def test_broken_retries_fail_with_the_right_reason(
    tmp_path: Path, upstream: str, script: str, options: dict[str, str], reason: str
) -> None:
    result = rehearse(write_scenario(tmp_path, upstream, script, runs=1, **options))  # type: ignore[arg-type]
    assert result.verdict is not None and result.verdict.verdict == "fail"
    assert any(reason in line for line in result.verdict.reasons), result.verdict.reasons
    assert result.runs[0].outcome == "failed"


def test_gaps_and_recovery_agree_with_the_targets_own_clock(tmp_path: Path, upstream: str) -> None:
    result = rehearse(write_scenario(tmp_path, upstream, "tenacity_retry.py", runs=1))
    own = [json.loads(line) for line in (tmp_path / "target.log").read_text().splitlines()]
    own_gaps = [later["sent_at"] - earlier["received_at"] for earlier, later in itertools.pairwise(own)]
    proxy_gaps = [gap.gap for gap in result.runs[0].gaps]
    assert len(own_gaps) == len(proxy_gaps) == 2
    for mine, theirs in zip(own_gaps, proxy_gaps, strict=True):
        assert abs(mine - theirs) < 0.020
    own_recovery = own[-1]["received_at"] - own[0]["received_at"]
    assert result.runs[0].recovery is not None and abs(result.runs[0].recovery - own_recovery) < 0.020


HANGS = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(os.environ["PIDS"], "w").write(f"{os.getpid()} {child.pid}")
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_timed_out_target_and_its_children_are_ended(tmp_path: Path, upstream: str) -> None:
    script = tmp_path / "hangs.py"
    script.write_text(HANGS)
    path = write_scenario(tmp_path, upstream, str(script), runs=1, timeout="1s")
    path.write_text(path.read_text().replace('RUN: "{run}"', f'RUN: "{{run}}", PIDS: "{tmp_path / "pids"}"'))
    result = rehearse(path)
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert result.runs[0].outcome == "timeout"
    assert not any(_alive(pid) for pid in pids)


def test_an_abort_ends_the_run_and_leaves_nothing_behind(tmp_path: Path, upstream: str) -> None:
    script = tmp_path / "hangs.py"
    script.write_text(HANGS)
    path = write_scenario(tmp_path, upstream, str(script), runs=3, timeout="5m")
    path.write_text(path.read_text().replace('RUN: "{run}"', f'RUN: "{{run}}", PIDS: "{tmp_path / "pids"}"'))
    rehearsal = Rehearsal(load_scenario(path))
    outcome: list[RehearsalResult] = []
    worker = threading.Thread(target=lambda: outcome.append(rehearsal.run()))
    worker.start()
    pids_file = tmp_path / "pids"
    rehearsal.abort.wait(0)  # the run starts; wait until the target has written its pids
    _wait_for_file(pids_file)
    rehearsal.abort.set()
    worker.join(timeout=30)
    [result] = outcome
    assert result.status == "aborted" and result.runs == []
    assert not any(_alive(int(pid)) for pid in pids_file.read_text().split())


def _wait_for_file(path: Path) -> None:
    """The target writes the file a moment after it starts; poll for it (not a timing assertion)."""
    ready = threading.Event()
    for _ in range(400):
        if path.exists() and path.read_text().strip():
            return
        ready.wait(0.025)
    raise AssertionError(f"{path} was never written")


def test_a_scenario_that_never_injects_cannot_pass(tmp_path: Path, upstream: str) -> None:
    path = write_scenario(tmp_path, upstream, "tenacity_retry.py", runs=1)
    path.write_text(path.read_text().replace('path: "/v1/jobs*"', 'path: "/v1/job-typo*"'))
    result = rehearse(path)
    assert result.verdict is not None and result.verdict.verdict == "fail"
    assert any("no fault was injected" in reason for reason in result.verdict.reasons)


EVIDENCE = """
evidence:
  window: {{pad_before: 60s, pad_after: 0s}}
  settle: 0s
  poll: {{every: 1s, attempts: 1}}
  checks:
    - id: prom-retries
      prometheus: {{url: "{url}", counter: "sum(retry_total)"}}
      expect: {{delta_equals: faults_injected}}
"""


@pytest.mark.parametrize(("rise", "verdict"), [(4, "pass"), (3, "fail"), (None, "inconclusive")])
def test_evidence_from_prometheus_decides_with_the_ledger(
    tmp_path: Path, upstream: str, rise: int | None, verdict: str
) -> None:
    with PrometheusStandin() as prometheus:
        now = time.time()
        if rise is not None:
            prometheus.set_counter("sum(retry_total)", [(now - 3600, 100), (now - 30, 100 + rise)])
        url = prometheus.url if rise is not None else "http://127.0.0.1:1"
        path = write_scenario(
            tmp_path, upstream, "tenacity_retry.py", honor_retry_after=False, extra=EVIDENCE.format(url=url)
        )
        result = rehearse(path)
    assert result.verdict is not None and result.verdict.verdict == verdict, result.verdict
    assert result.evidence is not None
    if verdict == "fail":
        assert any(r.startswith("evidence prom-retries:") for r in result.verdict.reasons)


def test_an_http_target_is_triggered_through_the_proxy(tmp_path: Path, upstream: str) -> None:
    path = tmp_path / "http.yml"
    path.write_text(f"""
name: http-job
runs: 2
target:
  http: {{trigger: {{method: POST, url: "{{proxy_url}}/v1/jobs", json: {{name: nightly}}}}}}
upstream: {upstream}
""")
    result = rehearse(path)
    assert result.verdict is not None and result.verdict.verdict == "pass", result.verdict
    assert [entry["status"] for entry in result.journal] == [201, 201]
    assert [entry["run"] for entry in result.journal] == [1, 2]


def test_an_http_target_whose_poll_never_succeeds_times_out(tmp_path: Path, upstream: str) -> None:
    path = tmp_path / "http.yml"
    path.write_text(f"""
name: http-poll
target:
  http:
    trigger: {{method: POST, url: "{{proxy_url}}/v1/jobs"}}
    poll: {{url: "{{proxy_url}}/v1/jobs", every: 100ms, until: {{status: 200}}}}
  timeout: 1s
upstream: {upstream}
""")
    result = rehearse(path)
    assert result.runs[0].outcome == "timeout"
    assert result.verdict is not None and result.verdict.verdict == "fail"


def test_an_abort_in_the_cooldown_gives_no_verdict(tmp_path: Path, upstream: str) -> None:
    path = write_scenario(tmp_path, upstream, "tenacity_retry.py", runs=3, honor_retry_after=False)
    path.write_text(path.read_text().replace("runs: 3", "runs: 3\ncooldown: 10m"))
    rehearsal = Rehearsal(load_scenario(path), on_progress=lambda _: rehearsal.abort.set())
    result = rehearsal.run()
    assert (result.status, result.verdict, len(result.runs)) == ("aborted", None, 1)
