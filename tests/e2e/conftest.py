"""The real `iris serve` as a subprocess on a free loopback port, talking to the Slack stand-in."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bot.demo.processes import free_port, iris_command
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage.db import open_engine
from tests.conftest import empty_tables

SIGNING_SECRET = "e2e-signing-secret-0123456789"
ADMIN = "UADMIN01"
IRIS_YML = f"""\
channels:
  default: C0OPS
roles:
  admins: [{ADMIN}, S0ADMINS]
  oncall: [UONCALL1]
"""


@dataclass
class IrisServer:
    """One `iris serve` process; start() waits until /healthz answers, stop() sends SIGTERM."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    startup_timeout: float = 30.0
    returncode: int | None = None  # how the last process ended
    command: list[str] = field(default_factory=iris_command)  # `iris`, or a wrapper around it

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"iris-{self.starts}.log"

    def start(self) -> IrisServer:
        """Start and wait for /healthz; a server that fails to come up is killed, never left behind."""
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.command, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_healthy(self.startup_timeout)
        except BaseException:  # also KeyboardInterrupt: the subprocess must not outlive the test run
            self._kill()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"iris serve exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling for start-up only; no test asserts on elapsed time
        raise AssertionError(f"iris serve did not become healthy:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGTERM and wait; uvicorn shuts down cleanly, then re-raises the signal (exit -15)."""
        assert self.process is not None
        self.process.terminate()
        try:
            self.returncode = self.process.wait(timeout=30)
            return self.returncode
        except BaseException:  # it did not stop in time: do not leave it running
            self._kill()
            raise
        finally:
            self.process = None

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.returncode = self.process.wait()
            self.process = None

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=10)


def server_env(standin: SlackStandin, workdir: Path, **overrides: str) -> dict[str, str]:
    (workdir / "iris.yml").write_text(IRIS_YML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=standin.api_url,
        IRIS_DATABASE_URL=f"sqlite:///{workdir / 'iris.db'}",
        IRIS_CONFIG=str(workdir / "iris.yml"),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def running(env: dict[str, str], workdir: Path) -> Iterator[IrisServer]:
    """For fixtures (`yield from running(...)`): a started server, stopped after the test whether
    it passed or failed."""
    server = IrisServer(env=env, workdir=workdir).start()
    yield server
    if server.process is not None:  # a test may have stopped it (or failed to restart it) already
        server.stop()


def driving(server: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    """For fixtures: a driver sending signed requests to `server`."""
    with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin) as driver:
        yield driver


def database_of(server: IrisServer) -> Iterator[Engine]:
    """For fixtures: the server's own database, opened beside it (SQLite WAL allows a second reader)."""
    engine = open_engine(server.env["IRIS_DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def iris(standin: SlackStandin, tmp_path: Path) -> Iterator[IrisServer]:
    yield from running(server_env(standin, tmp_path), tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def iris_each_db(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path
) -> Iterator[IrisServer]:
    """`iris serve` once on a SQLite file and once on this session's PostgreSQL database (emptied
    first): for what takes outside input into a column, which PostgreSQL checks and SQLite does not."""
    overrides = {}
    if request.param == "postgresql":
        request.getfixturevalue("engine_for_postgres_server")
        overrides["IRIS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    yield from running(server_env(standin, tmp_path, **overrides), tmp_path)


@pytest.fixture
def engine_for_postgres_server(postgres_engine: Engine) -> Engine:
    """The session's PostgreSQL database, migrated and with every table emptied."""
    empty_tables(postgres_engine)
    return postgres_engine


@pytest.fixture
def driver(iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(iris, standin)


@pytest.fixture
def iris_db(iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(iris)


def eventually(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns a truthy value (for state another process writes)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


# Slack's app-manifest schema, vendored (see tests/fixtures/README.md); the shared copy it came from.
SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "slack-app-manifest.schema.1.0.0.json"
SHARED_SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "schemas" / SCHEMA.name
