"""Running a rehearsal's target once: a command in its own process group, or an HTTP job."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.rehearsals.scenario import HttpTarget

log = logging.getLogger(__name__)

MARKER_ENV = "IRIS_REHEARSAL_ID"
SECRET_PREFIXES = ("SLACK_", "IRIS_")  # IRIS's own settings: tokens, the database URL
KILL_GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL for a target's process group
OUTPUT_TAIL_BYTES = 4000


@dataclass(frozen=True)
class TargetOutcome:
    exit_code: int | None
    timed_out: bool
    output_tail: str = ""
    aborted: bool = False


def run_command(
    argv: list[str], workdir: Path, env: dict[str, str], timeout: float, abort: threading.Event
) -> TargetOutcome:
    """Run the target in its own process group; on timeout or abort the whole group is ended."""
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        env=target_environment(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
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
    return TargetOutcome(
        None if still_running else process.returncode, still_running and not aborted, output.text(), aborted
    )


def target_environment(scenario_env: dict[str, str]) -> dict[str, str]:
    """IRIS's environment without its secrets, plus the scenario's variables.

    A target's output can end up in Slack (the journal, failed-run output): Slack tokens, the alert
    token and the database URL must never be in a place a script could print them from.
    """
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(SECRET_PREFIXES) or name == MARKER_ENV
    }
    return inherited | {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"} | scenario_env


def end_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the target's whole process group, then SIGKILL whatever is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _signal_group(process, sig) or _group_gone_within(process, KILL_GRACE_SECONDS):
            break
    process.wait()


def _reap(pgid: int) -> None:
    try:
        while os.waitpid(-pgid, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:  # none of them is our child: init reaps them
        pass


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
        _reap(process.pid)  # as PID 1 or a subreaper IRIS inherits the group's orphans: reap them
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
        while chunk := os.read(stream.fileno(), 4096):  # whatever is there: the last lines matter most
            self._buffer = (self._buffer + chunk)[-OUTPUT_TAIL_BYTES:]

    def join(self) -> None:
        self._thread.join(timeout=5)

    def text(self) -> str:
        return self._buffer.decode("utf-8", "replace")


def run_http_target(
    target: HttpTarget, proxy_url: str, timeout: float, abort: threading.Event
) -> TargetOutcome:
    """Trigger the job over HTTP, then poll until its condition holds (exit 0) or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=min(30.0, timeout), trust_env=False) as client:
        trigger = target.trigger
        try:
            answer = client.request(
                trigger.method,
                trigger.url.replace("{proxy_url}", proxy_url),
                json=trigger.json_body,
                headers=trigger.headers,
            )
        except httpx.HTTPError as exc:
            return TargetOutcome(1, False, f"trigger failed: {exc}")
        if target.poll is None or not answer.is_success:  # a refused trigger has nothing to poll for
            return TargetOutcome(0 if answer.is_success else 1, False, answer.text[-OUTPUT_TAIL_BYTES:])
        return _poll(client, target, proxy_url, deadline, abort)


def _poll(
    client: httpx.Client, target: HttpTarget, proxy_url: str, deadline: float, abort: threading.Event
) -> TargetOutcome:
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


def kill_leftover_targets(rehearsal_id: str, proc: Path = Path("/proc")) -> int:
    """SIGKILL every process still carrying this rehearsal's marker (after IRIS itself crashed).

    Targets run in sessions of their own, so they outlive a killed IRIS; the marker in their
    environment (inherited by their children) finds them without trusting a pid that may be reused.
    """
    marker = f"{MARKER_ENV}={rehearsal_id}".encode()
    spared = _self_and_ancestors(proc)  # e.g. IRIS restarted by a rehearsed deploy script
    killed = 0
    for entry in proc.glob("[0-9]*"):
        try:
            if int(entry.name) not in spared and marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
    return killed


def _self_and_ancestors(proc: Path) -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            pid = int((proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids
