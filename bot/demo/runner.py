"""`iris demo`: start the stand-in, the example upstream and IRIS, serve the playground, stop it all."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from aiohttp import web

from bot.demo.client import IrisEndpoints, SlackClient
from bot.demo.playground import Playground
from bot.demo.processes import Children, adopt_orphans, free_port, iris_command, port_is_free
from bot.demo.tour import run_tour
from bot.demo.world import CHANNELS, EXAMPLES, PEOPLE, DemoSetupError, write_demo_files
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin

READY_TIMEOUT_S = 30.0
WATCH_EVERY_S = 0.5
PAGE_SHUTDOWN_S = 2.0  # open pages' event streams are closed at once; this bounds the rest
LOOPBACK = ("127.0.0.1", "localhost", "::1")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(Exception):
    """A stop signal arrived before the page was serving: clean up and exit."""


@dataclass(frozen=True)
class DemoOptions:
    port: int = 8000
    host: str = "127.0.0.1"
    tour: bool = False
    db: Path | None = None  # a SQLite file to keep; default one in the temporary folder


@dataclass(frozen=True)
class Secrets:
    bot_token: str
    signing_secret: str
    alert_token: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls("xoxb-demo-" + secrets.token_hex(8), secrets.token_hex(16), secrets.token_hex(16))


def say(line: str) -> None:
    print(f"iris demo: {line}", flush=True)


def run_demo(options: DemoOptions) -> int:
    """Run until Ctrl-C or SIGTERM (or, with a failing tour, until it fails); returns the exit code."""
    host, port = options.host, options.port
    busy = port_is_free(host, port)
    if busy is not None:
        raise DemoSetupError(f"cannot listen on {host}:{port} ({busy.strerror}); try --port {port + 1}.")
    if options.host not in LOOPBACK:
        say(f"warning: the page on {options.host} has no login; anyone who reaches it acts as any demo user.")
    _on_signals(_raise_stopped)
    adopt_orphans()
    folder = Path(tempfile.mkdtemp(prefix="iris-demo-"))  # iris.yml, the scenario and the logs
    keys = Secrets.fresh()
    children = Children(logs=folder)
    standin = _standin(keys).start()
    try:
        iris_url = _start_processes(children, standin, keys, folder, options.db or folder / "iris.db")
        return asyncio.run(_serve(options, children, standin, keys, iris_url))
    except Stopped:
        return 0
    finally:
        _on_signals(lambda *_: children.hurry.set())  # a second Ctrl-C: stop without waiting
        survivors = children.stop()
        standin.stop()
        shutil.rmtree(folder, ignore_errors=True)
        say(f"stopped; still running: {survivors}" if survivors else "stopped; nothing left running.")


def _on_signals(handler: Callable[[int, FrameType | None], None]) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def _raise_stopped(signum: int, _: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


def _standin(keys: Secrets) -> SlackStandin:
    standin = SlackStandin(
        bot_token=keys.bot_token, team_domain="iris-demo", default_tz="Asia/Seoul", ts_origin=int(time.time())
    )
    for person in PEOPLE:
        standin.set_user(person.id, name=person.name)
    for channel in CHANNELS:
        standin.set_channel_name(channel.id, channel.name)
    return standin


def _start_processes(children: Children, standin: SlackStandin, keys: Secrets, folder: Path, db: Path) -> str:
    upstream_port, iris_port = free_port(), free_port()
    upstream = EXAMPLES / "automation" / "upstream.py"
    config = write_demo_files(folder, f"http://127.0.0.1:{upstream_port}")
    argv = [sys.executable, str(upstream), "--port", str(upstream_port), "--job-seconds", "0.5"]
    children.start("upstream", argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env |= {k: os.environ[k] for k in ("IRIS_LANG", "IRIS_TIMEZONE") if k in os.environ}
    env |= {
        "SLACK_BOT_TOKEN": keys.bot_token,
        "SLACK_SIGNING_SECRET": keys.signing_secret,
        "SLACK_API_URL": standin.api_url,
        "IRIS_DATABASE_URL": f"sqlite:///{db.resolve()}",
        "IRIS_CONFIG": str(config),
        "IRIS_ALERT_TOKEN": keys.alert_token,
        "NO_PROXY": "127.0.0.1,localhost",  # everything IRIS talks to in the demo is on loopback
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    children.start("iris", [*iris_command(), "serve", "--host", "127.0.0.1", "--port", str(iris_port)], env)
    return f"http://127.0.0.1:{iris_port}"


async def _serve(
    options: DemoOptions, children: Children, standin: SlackStandin, keys: Secrets, iris_url: str
) -> int:
    tz = os.environ.get("IRIS_TIMEZONE", "Asia/Seoul")
    with SlackDriver(iris_url, keys.signing_secret, standin=standin, team_domain="iris-demo") as driver:
        client = SlackClient(standin, driver, IrisEndpoints(iris_url, keys.alert_token), PEOPLE, CHANNELS)
        playground = Playground(client, tz, page_host=options.host)
        runner = web.AppRunner(playground.app(), handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, options.host, options.port, shutdown_timeout=PAGE_SHUTDOWN_S).start()
        try:
            await _wait_ready(children, iris_url)
            say(f"ready in {process_age():.1f} s: open {page_url(options)}  (Ctrl-C stops everything)")
            return await _until_stopped(children, client, options.tour)
        finally:
            await asyncio.to_thread(children.stop)  # IRIS and the upstream first; the page goes last
            await runner.cleanup()


def page_url(options: DemoOptions) -> str:
    host = "127.0.0.1" if options.host in ("127.0.0.1", "localhost") else options.host
    return f"http://{f'[{host}]' if ':' in host else host}:{options.port}/"


def process_age() -> float:
    """Seconds since this process started (Python's own start-up included), from /proc on Linux."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.process_time()


async def _wait_ready(children: Children, iris_url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(timeout=1, trust_env=False) as client:
        while time.monotonic() < deadline:
            _check_children(children)
            try:
                if (await client.get(iris_url + "/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise DemoSetupError(
        f"IRIS did not become ready within {READY_TIMEOUT_S:.0f} s:\n{children.log_tail('iris')}"
    )


def _check_children(children: Children) -> None:
    for name, code in children.exited():
        raise DemoSetupError(f"{name} stopped with exit code {code}:\n{children.log_tail(name)}")


async def _until_stopped(children: Children, client: SlackClient, tour: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    touring = TourRun(client) if tour else None
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), WATCH_EVERY_S)
            except TimeoutError:
                _check_children(children)
            if touring is not None and not touring.thread.is_alive():
                if not touring.passed:
                    return 1
                touring = None
        say("stopping…")
        return 0
    finally:
        if touring is not None:
            touring.ended.set()


class TourRun:
    """The tour on a daemon thread: a stop never waits for the step it is in."""

    def __init__(self, client: SlackClient) -> None:
        self.ended = threading.Event()
        self.passed = False
        self.thread = threading.Thread(target=self._run, args=(client,), name="iris-demo-tour", daemon=True)
        self.thread.start()

    def _run(self, client: SlackClient) -> None:
        self.passed = run_tour(client, say, self.ended)
