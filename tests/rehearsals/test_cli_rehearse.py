"""`iris rehearse FILE` as a CI gate: exit 0 on pass, 1 on fail, 2 on an invalid scenario."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.demo.processes import free_port
from tests.e2e.conftest import iris_command
from tests.rehearsals.test_runner import write_scenario

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def iris(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*iris_command(), "rehearse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_only_validates(tmp_path: Path, upstream: str) -> None:
    path = write_scenario(tmp_path, upstream, "tenacity_retry.py")
    result = iris(str(path), "--check", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith(f"{path}: valid. tenacity-retry")
    assert not (tmp_path / "target.log").exists()  # nothing ran


def test_an_invalid_scenario_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(
        "name: Broken Name\ntarget: {command: 'python3 x.py'}\n"
        "faults: [{id: f, respond: {status: 504}, when: {attempts: [0]}}]\n"
    )
    result = iris(str(path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"iris: {path} is not a valid scenario:"
    assert "  faults[0].when.attempts: must be a list of positive integers" in lines
    assert any(line.startswith("  upstream: is required") for line in lines)
    assert any(line.startswith("  target.command: must be a list of arguments") for line in lines)


def test_a_passing_rehearsal_exits_0_with_the_full_json(tmp_path: Path, upstream: str) -> None:
    path = write_scenario(tmp_path, upstream, "tenacity_retry.py", honor_retry_after=False)
    result = iris(str(path), "--json", "--runs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert (body["status"], body["verdict"], body["success_rate"]) == ("completed", "pass", 1.0)
    assert body["faults_injected"] == 2 and len(body["runs"]) == 1
    assert [entry["status"] for entry in body["journal"]] == [504, 504, 201]
    assert "▰ 1/1  run 1 recovered" in result.stderr


def test_a_failing_rehearsal_exits_1_and_says_why(tmp_path: Path, upstream: str) -> None:
    path = write_scenario(tmp_path, upstream, "exits_nonzero.py", runs=1)
    result = iris(str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "verdict FAIL" in result.stdout
    assert "  - run 1: exit code 3, expected 0" in result.stdout.splitlines()


def test_a_rehearsal_whose_upstream_is_down_says_so_in_its_verdict(tmp_path: Path) -> None:
    down = f"127.0.0.1:{free_port()}"  # nothing listens there
    path = write_scenario(tmp_path, f"http://{down}", "tenacity_retry.py", runs=1)
    result = iris(str(path), cwd=tmp_path)
    assert result.returncode == 1
    verdict, _, first_reason, *_ = result.stdout.splitlines()
    assert verdict.endswith("verdict FAIL")
    assert first_reason == (
        f"  - upstream unreachable: cannot connect to {down}: Connection refused; "
        f"check that http://{down} is running"
    )
