"""The demo's child processes (IRIS itself, the example upstream): started in their own process groups,
stopped together, never left running."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_S = 10.0  # IRIS drains its outbox on SIGTERM; after this the group is killed
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child if the demo itself is killed (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        # No prctl: Ctrl-C and SIGTERM still stop the children.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Children:
    """Every process the demo started; each leads its own process group, so what it starts stops too."""

    logs: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

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

    def stop(self) -> None:
        """SIGTERM every group (newest first), wait, then SIGKILL what is left of each group."""
        for _, process in reversed(self.started):
            _signal_group(process, signal.SIGTERM)
        for _, process in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_GRACE_S)
            _signal_group(process, signal.SIGKILL)  # grandchildren (a rehearsal's script) too
            process.wait()
        self.started.clear()


def free_port() -> int:
    """A loopback port nobody listens on now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def iris_command() -> list[str]:
    """How to run this IRIS's `iris` console script: beside this Python, or as a module."""
    script = Path(sys.executable).with_name("iris")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
