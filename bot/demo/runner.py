"""`iris demo`: start the stand-in, the example upstream and IRIS, serve the playground, stop it all."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from aiohttp import web

from bot.demo.playground import IrisEndpoints, Playground
from bot.demo.processes import Children, free_port, iris_command
from bot.demo.tour import run_tour
from bot.demo.world import CHANNELS, EXAMPLES, PEOPLE, DemoSetupError, write_demo_files
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin

READY_TIMEOUT_S = 30.0
WATCH_EVERY_S = 0.5
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class DemoOptions:
    port: int = 8000
    host: str = "127.0.0.1"
    tour: bool = False
    db: Path | None = None  # a SQLite file to keep; default a temporary folder removed at the end


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
    started = time.monotonic()
    _check_port(options.host, options.port)
    if options.host not in LOOPBACK:
        say(f"warning: the page on {options.host} has no login; anyone who reaches it acts as any demo user.")
    folder = options.db.parent if options.db else Path(tempfile.mkdtemp(prefix="iris-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = options.db or folder / "iris.db"
    keys = Secrets.fresh()
    children = Children(logs=folder)
    standin = _standin(keys).start()
    try:
        iris_url = _start_processes(children, standin, keys, folder, database)
        return asyncio.run(_serve(options, children, standin, keys, iris_url, started))
    finally:
        children.stop()
        standin.stop()
        if options.db is None:
            shutil.rmtree(folder, ignore_errors=True)
        say("stopped; nothing left running.")


def _check_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DemoSetupError(
                f"cannot listen on {host}:{port} ({exc.strerror}); try --port {port + 1}."
            ) from None


def _standin(keys: Secrets) -> SlackStandin:
    standin = SlackStandin(bot_token=keys.bot_token, team_domain="iris-demo", default_tz="Asia/Seoul")
    for person in PEOPLE:
        standin.set_user(person.id, name=person.name)
    for channel in CHANNELS:
        standin.set_channel_name(channel.id, channel.name)
    return standin


def _start_processes(children: Children, standin: SlackStandin, keys: Secrets, folder: Path, db: Path) -> str:
    upstream_port, iris_port = free_port(), free_port()
    upstream = EXAMPLES / "automation" / "upstream.py"
    config = write_demo_files(folder, f"http://127.0.0.1:{upstream_port}")
    children.start(
        "upstream", [sys.executable, str(upstream), "--port", str(upstream_port), "--job-seconds", "0.5"]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env |= {k: os.environ[k] for k in ("IRIS_LANG", "IRIS_TIMEZONE") if k in os.environ}
    env |= {
        "SLACK_BOT_TOKEN": keys.bot_token,
        "SLACK_SIGNING_SECRET": keys.signing_secret,
        "SLACK_API_URL": standin.api_url,
        "IRIS_DATABASE_URL": f"sqlite:///{db}",
        "IRIS_CONFIG": str(config),
        "IRIS_ALERT_TOKEN": keys.alert_token,
        "PYTHONUNBUFFERED": "1",
    }
    children.start("iris", [*iris_command(), "serve", "--host", "127.0.0.1", "--port", str(iris_port)], env)
    return f"http://127.0.0.1:{iris_port}"


async def _serve(
    options: DemoOptions,
    children: Children,
    standin: SlackStandin,
    keys: Secrets,
    iris_url: str,
    started: float,
) -> int:
    tz = os.environ.get("IRIS_TIMEZONE", "Asia/Seoul")
    with SlackDriver(iris_url, keys.signing_secret, standin=standin, team_domain="iris-demo") as driver:
        playground = Playground(
            standin, driver, IrisEndpoints(iris_url, keys.alert_token), PEOPLE, CHANNELS, tz
        )
        runner = web.AppRunner(playground.app(), handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, options.host, options.port).start()
        try:
            await _wait_ready(children, iris_url)
            url = f"http://{'127.0.0.1' if options.host in LOOPBACK else options.host}:{options.port}/"
            say(f"ready in {time.monotonic() - started:.1f} s: open {url}  (Ctrl-C stops everything)")
            return await _until_stopped(children, playground, options.tour)
        finally:
            await runner.cleanup()


async def _wait_ready(children: Children, iris_url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(timeout=1) as client:
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


async def _until_stopped(children: Children, playground: Playground, tour: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ended = threading.Event()  # tells a tour still running to stop, so the demo can exit
    touring = asyncio.create_task(asyncio.to_thread(run_tour, playground, say, ended)) if tour else None
    code = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), WATCH_EVERY_S)
        except TimeoutError:
            _check_children(children)
        if touring is not None and touring.done():
            code = 0 if touring.result() else 1
            touring = None
            if code:
                break
    ended.set()
    say("stopping…")
    return code
