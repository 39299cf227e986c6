"""Ack latency of `iris serve` against a bare Bolt app on the same stack, under concurrent slash commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
from benchlib import machine, percentile, stop_process

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "ack_latency.json"
TEXTS = ("help", "status")
CONCURRENCIES = (20, 50)
DEFAULT_REQUESTS = 2000
QUICK_REQUESTS = 200
SLACK_ACK_LIMIT_S = 3.0
P99_RATIO_LIMIT = 1.5
START_DEADLINE_S = 60.0
REPLY_DEADLINE_S = 240.0
CLIENT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """One server under test and the driver that signs requests for it."""

    name: str
    driver: SlackDriver


@dataclass
class Cell:
    """The figures of one (app, command, concurrency) run."""

    app: str
    command: str
    concurrency: int
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    errors: int
    client_cpu_pct: float  # the load generator's own CPU use (stand-in included) over the cell's wall time
    replies: int | None = None  # /iris status answers that reached the stand-in's response URLs
    replies_sent: int | None = None  # status commands sent in the cell, warm-up included
    reply_drain_s: float | None = None
    error_samples: list[str] = field(default_factory=list)


# -- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(argv, env=env, cwd=log_path.parent, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Poll GET /healthz until it answers 200; fail with the log's tail if the server dies or is slow."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(base_url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{log_path.stem} did not become healthy at {base_url}; log tail:\n{tail}")


def iris_env(tmpdir: Path, secret: str, standin: SlackStandin) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SLACK_APP_TOKEN", "IRIS_CONFIG")}
    return env | {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": standin.api_url,
        "IRIS_DATABASE_URL": f"sqlite:///{tmpdir}/iris.db",
    }


def start_server(
    name: str,
    argv: list[str],
    port: int,
    env: dict[str, str],
    tmpdir: Path,
    procs: list[subprocess.Popen[bytes]],
) -> str:
    """Start a server process (recorded in `procs` at once, so it is stopped even if it never answers)."""
    log_path, base_url = tmpdir / f"{name}.log", f"http://127.0.0.1:{port}"
    procs.append(start_process([*argv, "--port", str(port)], env, log_path))
    wait_healthy(procs[-1], base_url, log_path)
    return base_url


# -- load -----------------------------------------------------------------------------------------


async def _worker(
    target: Target,
    client: aiohttp.ClientSession,
    text: str,
    count: list[int],
    latencies: list[float],
    failures: list[str],
    names: list[str],
) -> None:
    while count[0] > 0:
        count[0] -= 1
        request = target.driver.build_command(text)  # signed now: the timestamp is always current
        started = time.perf_counter()
        try:
            async with client.post(
                target.driver.events_url, data=request.body, headers=request.headers
            ) as response:
                await response.read()
                problem = None if response.status == 200 else f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            problem = type(exc).__name__
        latencies.append(time.perf_counter() - started)
        if problem:
            failures.append(problem)
        if request.response_url_name:
            names.append(request.response_url_name)


async def _load(
    target: Target,
    client: aiohttp.ClientSession,
    text: str,
    concurrency: int,
    requests: int,
    names: list[str],
) -> tuple[list[float], list[str], float, float]:
    latencies: list[float] = []
    failures: list[str] = []
    count = [requests]
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(
        *(_worker(target, client, text, count, latencies, failures, names) for _ in range(concurrency))
    )
    return latencies, failures, time.perf_counter() - started, time.process_time() - cpu_started


async def measure(
    target: Target, text: str, concurrency: int, requests: int, warmup: int, names: list[str]
) -> Cell:
    """Warm up (opening every connection), then send `requests` commands `concurrency` at a time."""
    # aiohttp rather than httpx: httpx's pool costs ~6 ms of client CPU per request at 50
    # connections, which on two cores would be measured as server latency.
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        await _load(target, client, text, concurrency, warmup, names)
        latencies, failures, wall, cpu = await _load(target, client, text, concurrency, requests, names)
    return summarize(target.name, text, concurrency, latencies, failures, (wall, cpu))


def summarize(
    app: str,
    text: str,
    concurrency: int,
    latencies: list[float],
    failures: list[str],
    times: tuple[float, float],
) -> Cell:
    """`times` is the cell's wall-clock and this process's CPU seconds."""
    ordered, (wall, cpu) = sorted(latencies), times
    ms = [round(percentile(ordered, p) * 1000, 2) for p in (50, 95, 99, 100)]
    return Cell(
        app,
        f"/iris {text}",
        concurrency,
        len(ordered),
        *ms,
        rps=round(len(ordered) / wall, 1),
        errors=len(failures),
        client_cpu_pct=round(100 * cpu / wall),
        error_samples=sorted(set(failures))[:5],
    )


def wait_for_replies(standin: SlackStandin, names: list[str]) -> tuple[int, float]:
    """How many of these response URLs got their answer, waiting until all have or the deadline passes."""
    started = time.monotonic()
    delivered = 0
    while time.monotonic() - started < REPLY_DEADLINE_S:
        delivered = sum(1 for name in names if standin.responses(name))
        if delivered >= len(names):
            break
        time.sleep(0.5)
    return delivered, round(time.monotonic() - started, 2)


# -- report ---------------------------------------------------------------------------------------


def print_table(cells: list[Cell]) -> None:
    header = (
        f"{'app':<6} {'command':<13} {'conc':>4} {'reqs':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'req/s':>7} {'errors':>6} {'client cpu':>10}  status replies"
    )
    print(header, "-" * len(header), sep="\n")
    for c in cells:
        replies = "" if c.replies is None else f"{c.replies}/{c.replies_sent} in {c.reply_drain_s}s"
        print(
            f"{c.app:<6} {c.command:<13} {c.concurrency:>4} {c.requests:>5} {c.p50_ms:>8.2f} "
            f"{c.p95_ms:>8.2f} {c.p99_ms:>8.2f} {c.max_ms:>8.2f} {c.rps:>7.1f} {c.errors:>6} "
            f"{c.client_cpu_pct:>9.0f}%  {replies}"
        )


def find(cells: list[Cell], app: str, command: str, concurrency: int) -> Cell:
    return next(c for c in cells if (c.app, c.command, c.concurrency) == (app, command, concurrency))


def acceptance_checks(cells: list[Cell]) -> list[dict[str, object]]:
    iris, bare = find(cells, "iris", "/iris help", 20), find(cells, "bare", "/iris help", 20)
    ratio = iris.p99_ms / bare.p99_ms if bare.p99_ms else math.inf
    at_50 = [c for c in cells if c.app == "iris" and c.concurrency == 50]
    worst, errors = max(c.max_ms for c in at_50), sum(c.errors for c in at_50)
    return [
        {
            "name": "(a) IRIS /iris help p99 at c=20 <= 1.5 x bare Bolt p99 at c=20",
            "passed": ratio <= P99_RATIO_LIMIT,
            "detail": f"{iris.p99_ms:.2f} ms vs {bare.p99_ms:.2f} ms: {ratio:.2f}x "
            f"(limit {P99_RATIO_LIMIT}x)",
        },
        {
            "name": "(b) no IRIS ack at c=50 took more than 3 s",
            "passed": worst <= SLACK_ACK_LIMIT_S * 1000 and errors == 0,
            "detail": f"slowest {worst:.2f} ms, {errors} errors",
        },
    ]


PACKAGES = ("slack-bolt", "slack-sdk", "uvicorn", "starlette", "httpx", "aiohttp")


def write_json(cells: list[Cell], checks: list[dict[str, object]], args: argparse.Namespace) -> None:
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "requests_per_cell": args.requests,
        "warmup_per_cell": args.warmup,
        "machine": machine(PACKAGES),
        "cells": [asdict(c) for c in cells],
        "checks": checks,
    }
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")


# -- the run --------------------------------------------------------------------------------------


def start_servers(
    tmpdir: Path, secret: str, standin: SlackStandin, procs: list[subprocess.Popen[bytes]]
) -> list[Target]:
    iris = [str(Path(sys.executable).parent / "iris"), "serve", "--host", "127.0.0.1"]
    iris_url = start_server("iris", iris, free_port(), iris_env(tmpdir, secret, standin), tmpdir, procs)
    bare = [sys.executable, str(BENCH_DIR / "bare_bolt_app.py"), "--secret", secret]
    bare_url = start_server("bare", bare, free_port(), dict(os.environ), tmpdir, procs)
    # Both drivers point response URLs at the stand-in, so both apps receive alike bodies.
    return [
        Target("bare", SlackDriver(bare_url, secret, standin)),
        Target("iris", SlackDriver(iris_url, secret, standin)),
    ]


def run_cells(targets: list[Target], standin: SlackStandin, args: argparse.Namespace) -> list[Cell]:
    """Interleave the apps cell by cell; after an IRIS status cell, let its replies drain before going on."""
    cells = []
    for concurrency in CONCURRENCIES:
        for text in TEXTS:
            for target in targets:
                names: list[str] = []
                cell = asyncio.run(measure(target, text, concurrency, args.requests, args.warmup, names))
                if target.name == "iris" and text == "status":
                    cell.replies, cell.reply_drain_s = wait_for_replies(standin, names)
                    cell.replies_sent = len(names)
                print(
                    f"  measured {target.name} /iris {text} at c={concurrency}: p99 {cell.p99_ms} ms",
                    flush=True,
                )
                cells.append(cell)
    return cells


def run(args: argparse.Namespace) -> int:
    standin = SlackStandin().start()
    try:
        with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
            cells = run_with_servers(Path(tmp), standin, args)
    finally:
        standin.stop()
    return report(cells, args)


def run_with_servers(tmpdir: Path, standin: SlackStandin, args: argparse.Namespace) -> list[Cell]:
    secret = secrets.token_hex(16)
    procs: list[subprocess.Popen[bytes]] = []
    targets: list[Target] = []
    try:
        targets = start_servers(tmpdir, secret, standin, procs)
        print(
            f"servers up; {args.requests} requests per cell after {args.warmup} warm-up; the load "
            f"generator shares this machine's {os.cpu_count()} CPUs with both servers",
            flush=True,
        )
        return run_cells(targets, standin, args)
    finally:
        for proc in procs:
            stop_process(proc, grace=30)
        for target in targets:
            target.driver.close()


def report(cells: list[Cell], args: argparse.Namespace) -> int:
    checks = acceptance_checks(cells)
    print()
    print_table(cells)
    print()
    for check in checks:
        print(f"{'PASS' if check['passed'] else 'FAIL'}  {check['name']}: {check['detail']}")
    write_json(cells, checks, args)
    print(f"\nresults written to {RESULTS_FILE}")
    return 0 if all(check["passed"] for check in checks) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=None, help=f"per cell (default {DEFAULT_REQUESTS})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_REQUESTS} requests per cell")
    args = parser.parse_args(argv)
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")
    args.requests = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    args.warmup = max(max(CONCURRENCIES) * 2, args.requests // 20)
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
