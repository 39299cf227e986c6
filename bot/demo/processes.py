"""The demo's child processes (IRIS itself, the example upstream): started in their own process groups,
stopped together, and every process below them (a rehearsal's script too) ended before the demo exits."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# IRIS's own stop takes up to 5 s (HTTP) + 20 s (drain) + 2 s (poster); then its group is killed.
STOP_GRACE_S = 30.0
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def _prctl() -> Callable[..., int] | None:
    """Linux's prctl, looked up once before any fork (ctypes is not safe to load in a forked child)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


PRCTL = _prctl()


def adopt_orphans() -> None:
    """Make this process the reaper of its descendants' orphans: a rehearsal's script, started by IRIS
    in a session of its own, then stays below the demo even when IRIS ends first, and is found."""
    if PRCTL is not None:
        PRCTL(PR_SET_CHILD_SUBREAPER, 1)


def _die_with_parent() -> None:
    """In the child: Linux sends SIGTERM if the demo itself dies (even by SIGKILL)."""
    if PRCTL is not None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Children:
    """Every process the demo started; each leads its own process group."""

    logs: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    hurry: threading.Event = field(default_factory=threading.Event)  # a second Ctrl-C: no more grace

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo only; it stops the children in order
                preexec_fn=_die_with_parent,
            )
        self.started.append((name, process))
        return process

    def exited(self) -> list[tuple[str, int]]:
        """The children that ended on their own, with their exit codes."""
        return [(name, code) for name, p in self.started if (code := p.poll()) is not None]

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> list[int]:
        """SIGTERM every group (newest first), wait up to STOP_GRACE_S (less after `hurry`), SIGKILL
        what is left of each group, then every remaining descendant; returns the pids that survived."""
        for _, process in reversed(self.started):
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for _, process in reversed(self.started):
            while process.poll() is None and time.monotonic() < deadline and not self.hurry.is_set():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.2)
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        self.started.clear()
        return sweep_descendants()


def sweep_descendants() -> list[int]:
    """SIGKILL and reap every process still below this one; returns those still there afterwards."""
    me = os.getpid()
    for pid in descendants(me):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    time.sleep(0.05)  # let the kernel finish what SIGKILL started before looking again
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    return sorted(descendants(me))


def descendants(pid: int) -> set[int]:
    """Every living (not zombie) process below `pid`, read from /proc; empty where there is no /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                parents[int(entry.name)] = int(parent)
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS's pick)."""
    with socket.socket(_family(host)) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_is_free(host: str, port: int) -> OSError | None:
    """None when `host:port` can be listened on; else the error saying why not."""
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc
    return None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def iris_command() -> list[str]:
    """How to run this IRIS's `iris` console script: beside this Python, or as a module."""
    script = Path(sys.executable).with_name("iris")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
