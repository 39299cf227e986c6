"""`iris demo` as a real process on a free port: started, read, stopped, and checked for leftovers."""

from __future__ import annotations

import os
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

    def wait_for_line(self, words: str, timeout: float) -> str:
        def found() -> str | None:
            return next((line for line in self.lines if words in line), None)

        with self._new_line:
            line = self._new_line.wait_for(found, timeout)
        if line is None:
            output = "\n".join(self.lines)
            raise AssertionError(f"`iris demo` never printed {words!r}; it printed:\n{output}")
        return line

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


def ready(demo: Demo) -> float:
    """Wait for the ready line; returns the seconds the demo says it took."""
    line = demo.wait_for_line("ready in", timeout=60)
    seconds = float(line.split("ready in ", 1)[1].split(" s", 1)[0])
    assert httpx.get(demo.url + "/", timeout=5).status_code == 200
    return seconds


def started_demo(factory: list[Demo], workdir: Path, *args: str) -> Demo:
    demo = Demo(workdir, tuple(args)).start()
    factory.append(demo)
    return demo
