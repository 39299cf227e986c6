"""`iris demo` as a real process on a free port: started, read, stopped, and checked for leftovers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.demo.processes import descendants
from tests.e2e.conftest import free_port, iris_command


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Demo:
    """One `iris demo` process; its output is collected line by line."""

    workdir: Path
    args: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    _new_line: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Demo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
        self.process = subprocess.Popen(
            [
                *iris_command(),
                "demo",
                "--port",
                str(self.port),
                "--db",
                str(self.workdir / "demo.db"),
                *self.args,
            ],
            env=env | {"PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()

    def wait_for_line(self, words: str | re.Pattern[str], timeout: float) -> str:
        def matches(line: str) -> bool:
            return words in line if isinstance(words, str) else words.search(line) is not None

        def found() -> str | None:
            return next((line for line in self.lines if matches(line)), None)

        with self._new_line:
            line = self._new_line.wait_for(found, timeout)
        if line is None:
            output = "\n".join(self.lines)
            raise AssertionError(f"`iris demo` never printed {words!r}; it printed:\n{output}")
        return line

    def restart_elsewhere(self) -> None:
        """Start again on another free port, after the demo exited because its port was taken."""
        assert self.process is not None
        self.process.wait(timeout=30)
        with self._new_line:
            self.lines.clear()
        self.port = free_port()
        self.start()

    def record(self) -> dict:
        return httpx.get(self.url + "/record", timeout=10).json()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the demo, wait, and assert nothing it started is still running."""
        assert self.process is not None
        started = descendants(self.process.pid)
        assert started, "the demo started no processes"
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        left = {pid for pid in started if alive(pid)}
        for pid in left:  # never leave them to other tests, but fail
            os.kill(pid, signal.SIGKILL)
        assert not left, f"still running after the demo stopped: {left}"
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for pid in descendants(self.process.pid):
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demo_factory(tmp_path: Path) -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for demo in started:
        demo.kill()


READY = re.compile(r"iris demo: ready in (?P<seconds>[0-9.]+) s")
PORT_TAKEN = re.compile(r"^iris: cannot listen on ")
READY_OR_PORT_TAKEN = re.compile(f"{READY.pattern}|{PORT_TAKEN.pattern}")


def ready(demo: Demo) -> float:
    """Wait for the ready line; returns the seconds the demo says it took.

    A port picked as free can be taken by another test's connection before the demo binds it; the
    demo then says so and exits, and is started again on another port (twice at most)."""
    for _ in range(3):
        line = demo.wait_for_line(READY_OR_PORT_TAKEN, timeout=60)
        if (match := READY.search(line)) is not None:
            assert httpx.get(demo.url + "/", timeout=5).status_code == 200
            return float(match["seconds"])
        demo.restart_elsewhere()
    raise AssertionError(f"`iris demo` found its port taken three times: {line}")


def started_demo(factory: list[Demo], workdir: Path, *args: str) -> Demo:
    demo = Demo(workdir, tuple(args)).start()
    factory.append(demo)
    return demo
