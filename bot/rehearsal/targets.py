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

from bot.rehearsal.scenario import HttpTarget

log = logging.getLogger(__name__)

MARKER_ENV = "IRIS_REHEARSAL_ID"
KILL_GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL for a target's process group
OUTPUT_TAIL_BYTES = 4000


@dataclass(frozen=True)
class TargetOutcome:
    exit_code: int | None
    timed_out: bool
    output_tail: str = ""
    aborted: bool = False


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


def kill_leftover_targets(rehearsal_id: str, proc: Path = Path("/proc")) -> int:
    """SIGKILL every process still carrying this rehearsal's marker (after IRIS itself crashed).

    Targets run in sessions of their own, so they outlive a killed IRIS; the marker in their
    environment (inherited by their children) finds them without trusting a pid that may be reused.
    """
    marker = f"{MARKER_ENV}={rehearsal_id}".encode()
    killed = 0
    for entry in proc.glob("[0-9]*"):
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
    return killed
