"""Added latency of the rehearsal fault proxy at 50 concurrent requests, and ten rehearsals at once."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import lean_load
import uvloop
from aiohttp import web
from benchlib import machine, percentile, stop_process

from bot.rehearsals.ledger import Ledger
from bot.rehearsals.proxy import FaultProxy
from bot.rehearsals.runner import Rehearsal, RehearsalResult
from bot.rehearsals.scenario import Fault, Scenario, parse_scenario
from bot.rehearsals.targets import MARKER_ENV

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "rehearsal_proxy.json"
TENACITY_TARGET = BENCH_DIR.parent / "tests" / "rehearsals" / "targets" / "tenacity_retry.py"
CONCURRENCY = 50  # the target's; c=1 is measured alongside, as the proxy's cost without queueing
CONCURRENCIES = (1, CONCURRENCY)
DEFAULT_REQUESTS, DEFAULT_ROUNDS = 5000, 5
QUICK_REQUESTS, QUICK_ROUNDS = 500, 1
WARMUP = 200  # per load process; opens all 50 client connections and the proxy's upstream ones
ADDED_P50_LIMIT_MS = 2.0
PARALLEL = 10
CLIENT_TIMEOUT_S = 10.0
LOAD_DEADLINE_S = 180.0
START_DEADLINE_S = 30.0
REHEARSALS_DEADLINE_S = 240.0
JOB_BODY = json.dumps({"name": "nightly-sync", "environment": "qa", "items": 3}).encode()
JSON = {"Content-Type": "application/json"}

# (name, fault or None for the upstream itself, statuses that are not errors)
PATHS: tuple[tuple[str, dict[str, Any] | None, frozenset[str]], ...] = (
    ("direct", None, frozenset({"201"})),
    (
        "proxy",
        {
            "id": "elsewhere",
            "match": {"method": "POST", "path": "/v1/elsewhere*"},
            "respond": {"status": 504},
            "when": {"every_nth": 1},
        },
        frozenset({"201"}),
    ),
    (
        "proxy+faults",
        {
            "id": "every-10th",
            "match": {"method": "POST", "path": "/v1/jobs*"},
            "respond": {"status": 504, "body": "injected by IRIS"},
            "when": {"every_nth": 10},
        },
        frozenset({"201", "504"}),
    ),
)

SCENARIO = """\
name: {name}
description: bench - tenacity retries through the fault proxy, one of several rehearsals at once
runs: 2
target:
  command: [{python}, {script}]
  env: {{API_URL: "{{proxy_url}}"}}
  timeout: 30s
upstream: {upstream}
faults:
  - id: gw-timeout
    match: {{method: POST, path: "/v1/jobs*"}}
    respond: {{status: 504, body: "injected by IRIS"}}
    when: {{attempts: [1, 2]}}
expect:
  exit_code: 0
  retry:
    on: [502, 503, 504]
    max_attempts: 4
    backoff: {{base: 200ms, factor: 2, max: 1s, jitter: none, jitter_max: 0s, first_retry: nominal}}
    honor_retry_after: false
    tolerance: {{abs: 60ms, rel: 0.05}}
guardrails: {{max_duration: 2m}}
"""


# -- child processes: the upstream and the load generator -----------------------------------------


def serve_upstream(fd: int) -> None:
    """The upstream QA API (child process, on the socket the parent bound): 201 for every job."""

    async def create_job(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": "job-1", "state": "queued"}, status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def cpu(_: web.Request) -> web.Response:  # exact, where /proc/<pid>/stat counts 10 ms ticks
        return web.Response(text=repr(time.process_time()))

    app = web.Application()
    app.router.add_post("/v1/jobs", create_job)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/cpu", cpu)
    web.run_app(app, sock=socket.socket(fileno=fd), access_log=None, print=None)


async def _send(
    client: aiohttp.ClientSession, url: str, concurrency: int, requests: int
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    remaining = [requests]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            started = time.perf_counter()
            try:
                async with client.post(url, data=JOB_BODY, headers=JSON) as answer:
                    await answer.read()
                    outcome = str(answer.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            outcomes[outcome] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, outcomes


async def generate_load(
    url: str, concurrency: int, requests: int, warmup: int, client: str = "lean"
) -> dict[str, Any]:
    """Warm up, say "warm" and wait for "go" on stdin (the parent then reads CPU counters), then measure."""
    if client == "lean":
        return await _lean_load(url, concurrency, requests, warmup)
    # aiohttp rather than httpx: httpx's pool costs ~6 ms of client CPU per request at 50 connections.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    ) as client:
        await _send(client, url, concurrency, warmup)
        print("warm", flush=True)
        sys.stdin.readline()
        started, cpu_started = time.perf_counter(), time.process_time()
        latencies, outcomes = await _send(client, url, concurrency, requests)
        return {
            "latencies": latencies,
            "outcomes": outcomes,
            "wall": time.perf_counter() - started,
            "cpu": time.process_time() - cpu_started,
        }


async def _lean_load(url: str, concurrency: int, requests: int, warmup: int) -> dict[str, Any]:
    content_type = JSON["Content-Type"]
    await lean_load.send(url, JOB_BODY, content_type, concurrency, warmup)
    print("warm", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    started, cpu_started = time.perf_counter(), time.process_time()
    latencies, outcomes = await lean_load.send(url, JOB_BODY, content_type, concurrency, requests)
    return {
        "latencies": latencies,
        "outcomes": outcomes,
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu_started,
    }


# -- the upstream, from the parent ----------------------------------------------------------------


def start_upstream(procs: list[subprocess.Popen[bytes]]) -> str:
    """Bind a loopback port here and hand the socket to the child: no port race, no port to report back."""
    with socket.create_server(("127.0.0.1", 0), backlog=1024) as sock:
        fd, url = sock.fileno(), f"http://127.0.0.1:{sock.getsockname()[1]}"
        argv = [sys.executable, __file__, "--serve-upstream", str(fd)]
        procs.append(subprocess.Popen(argv, pass_fds=(fd,)))
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline and procs[-1].poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the upstream at {url} did not answer /healthz")


def upstream_cpu(upstream: str) -> float:
    with urllib.request.urlopen(upstream + "/cpu", timeout=5) as answer:
        return float(answer.read())


# -- latency --------------------------------------------------------------------------------------


@dataclass
class Samples:
    """One path's measured requests, pooled over the rounds; CPU seconds of each process over them."""

    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=lambda: {"client": 0.0, "proxy": 0.0, "upstream": 0.0})


@dataclass
class Cell:
    path: str
    concurrency: int
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    errors: int
    outcomes: dict[str, int]
    cpu_pct: dict[str, int]  # each process's CPU use over the measured wall time, in % of one CPU
    proxy_cpu_ms_per_request: float


def measure_round(
    url: str, upstream: str, concurrency: int, requests: int, samples: Samples, client: str
) -> None:
    """One load process against `url`; the proxy's CPU is this process's (its main thread only waits)."""
    spec = json.dumps(
        {
            "url": url + "/v1/jobs",
            "concurrency": concurrency,
            "requests": requests,
            "warmup": WARMUP,
            "client": client,
        }
    )
    load = subprocess.Popen(
        [sys.executable, __file__, "--load", spec], text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    deadline = threading.Timer(LOAD_DEADLINE_S, load.kill)  # also bounds a warm-up that never ends
    deadline.start()
    try:
        assert load.stdout is not None
        if load.stdout.readline().strip() != "warm":
            raise RuntimeError(f"the load generator failed during warm-up (exit {load.wait()})")
        proxy_cpu, upstream_cpu0 = time.process_time(), upstream_cpu(upstream)
        out, _ = load.communicate("go\n", timeout=LOAD_DEADLINE_S)
        proxy_cpu, upstream_cpu1 = time.process_time() - proxy_cpu, upstream_cpu(upstream)
    finally:
        deadline.cancel()
        stop_process(load)
    result = json.loads(out)
    samples.latencies += result["latencies"]
    samples.outcomes.update(result["outcomes"])
    samples.wall += result["wall"]
    for name, seconds in (
        ("client", result["cpu"]),
        ("proxy", proxy_cpu),
        ("upstream", upstream_cpu1 - upstream_cpu0),
    ):
        samples.cpu[name] += seconds


def summarize(path: str, concurrency: int, samples: Samples, allowed: frozenset[str]) -> Cell:
    ordered = sorted(samples.latencies)
    p50, p95, p99, top = (round(percentile(ordered, p) * 1000, 2) for p in (50, 95, 99, 100))
    errors = sum(n for outcome, n in samples.outcomes.items() if outcome not in allowed)
    cpu = {name: round(100 * seconds / samples.wall) for name, seconds in samples.cpu.items()}
    return Cell(
        path,
        concurrency,
        len(ordered),
        p50,
        p95,
        p99,
        top,
        rps=round(len(ordered) / samples.wall, 1),
        errors=errors,
        outcomes=dict(sorted(samples.outcomes.items())),
        cpu_pct=cpu,
        proxy_cpu_ms_per_request=round(1000 * samples.cpu["proxy"] / len(ordered), 3),
    )


def measure_latency(upstream: str, args: argparse.Namespace) -> tuple[list[Cell], dict[str, Any]]:
    """Every path at every concurrency, interleaved round by round so that drift hits them alike."""
    proxies = [FaultProxy(upstream, [Fault.model_validate(fault)], Ledger()) for _, fault, _ in PATHS[1:]]
    samples = {(name, c): Samples() for c in CONCURRENCIES for name, _, _ in PATHS}
    try:
        urls = [upstream, *(proxy.start().url for proxy in proxies)]
        for number in range(1, args.rounds + 1):
            for concurrency in CONCURRENCIES:
                for (name, _, _), url in zip(PATHS, urls, strict=True):
                    measure_round(
                        url,
                        upstream,
                        concurrency,
                        args.requests // args.rounds,
                        samples[name, concurrency],
                        args.client,
                    )
            print(f"  round {number}/{args.rounds} measured", flush=True)
        ledger = {
            name: {"entries": len(proxy.ledger), "injected": proxy.ledger.faults_injected()}
            for (name, _, _), proxy in zip(PATHS[1:], proxies, strict=True)
        }
    finally:
        for proxy in proxies:
            proxy.stop()
    return [
        summarize(name, c, samples[name, c], allowed) for c in CONCURRENCIES for name, _, allowed in PATHS
    ], ledger


def added_latency(cells: list[Cell]) -> dict[str, dict[str, float]]:
    """Per percentile: a proxied path's latency minus the direct call's at the same concurrency, same run."""
    direct = {cell.concurrency: cell for cell in cells if cell.path == "direct"}
    return {
        f"{cell.path} c={cell.concurrency}": {
            p: round(getattr(cell, f"{p}_ms") - getattr(direct[cell.concurrency], f"{p}_ms"), 2)
            for p in ("p50", "p95", "p99")
        }
        for cell in cells
        if cell.path != "direct"
    }


# -- rehearsals in parallel -----------------------------------------------------------------------


def write_scenarios(folder: Path, upstream: str, count: int) -> list[Scenario]:
    scenarios = []
    for number in range(1, count + 1):
        path = folder / f"bench-tenacity-{number:02d}.yml"
        path.write_text(
            SCENARIO.format(
                name=path.stem,
                python=json.dumps(sys.executable),
                script=json.dumps(str(TENACITY_TARGET)),
                upstream=upstream,
            )
        )
        scenarios.append(parse_scenario(path.read_text(), source=path))
    return scenarios


def rehearse_together(scenarios: list[Scenario], ids: list[str]) -> tuple[list[RehearsalResult | str], float]:
    """Run every rehearsal on a thread of its own, all at once; a result, or why there is none."""
    rehearsals = [Rehearsal(scenario, rehearsal_id=rid) for scenario, rid in zip(scenarios, ids, strict=True)]
    results: list[RehearsalResult | str] = ["did not finish"] * len(rehearsals)

    def run_one(index: int) -> None:
        try:
            results[index] = rehearsals[index].run()
        except Exception as exc:  # reported in the table, not lost in a thread
            results[index] = f"crashed: {exc!r}"

    threads = [threading.Thread(target=run_one, args=(i,), name=f"bench-{ids[i]}") for i in range(len(ids))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, started + REHEARSALS_DEADLINE_S - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        for rehearsal in rehearsals:
            rehearsal.abort.set()
        for thread in threads:
            thread.join(30)
    return results, round(time.monotonic() - started, 2)


def gap_errors_ms(results: list[RehearsalResult | str]) -> dict[str, Any]:
    """Measured gap − nominal gap (jitter none: one nominal value) over every gap of every run."""
    errors = sorted(
        (gap.gap - gap.bounds.nominal_high) * 1000
        for result in results
        if isinstance(result, RehearsalResult)
        for run in result.runs
        for gap in run.gaps
    )
    if not errors:
        return {"gaps": 0}
    return {
        "gaps": len(errors),
        "min": round(errors[0], 1),
        "p50": round(percentile(errors, 50), 1),
        "p99": round(percentile(errors, 99), 1),
        "max": round(errors[-1], 1),
    }


def describe(result: RehearsalResult | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"status": "missing", "verdict": None, "reasons": [result]}
    verdict = result.verdict
    return {
        "scenario": result.scenario,
        "rehearsal_id": result.rehearsal_id,
        "status": result.status,
        "verdict": verdict.verdict if verdict else None,
        "reasons": (verdict.reasons if verdict else []) + result.notes,
        "backoff_ok": f"{verdict.backoff_ok}/{verdict.backoff_total}" if verdict else None,
        "faults_injected": verdict.faults_injected if verdict else None,
        "duration_s": round(result.ended_at - result.started_at, 2),
    }


def rehearse(upstream: str, folder: Path) -> dict[str, Any]:
    """One rehearsal alone (the undisturbed gaps), then ten at once."""
    scenarios = write_scenarios(folder, upstream, PARALLEL)
    token = secrets.token_hex(3)
    alone, alone_wall = rehearse_together(scenarios[:1], [f"bench-{token}-alone"])
    print(f"  one rehearsal alone: {alone_wall} s", flush=True)
    ids = [f"bench-{token}-{number:02d}" for number in range(1, PARALLEL + 1)]
    together, wall = rehearse_together(scenarios, ids)
    print(f"  {PARALLEL} rehearsals in parallel: {wall} s", flush=True)
    return {
        "ids": [*ids, f"bench-{token}-alone"],
        "alone": {
            "wall_s": alone_wall,
            "rehearsal": describe(alone[0]),
            "gap_error_ms": gap_errors_ms(alone),
        },
        "parallel": {
            "count": PARALLEL,
            "wall_s": wall,
            "rehearsals": [describe(r) for r in together],
            "gap_error_ms": gap_errors_ms(together),
        },
    }


# -- what is left behind --------------------------------------------------------------------------


def listening_ports() -> list[int]:
    """TCP ports this process still listens on (its socket inodes found in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                ports.append(int(cols[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def leftovers(rehearsal_ids: list[str]) -> dict[str, list[Any]]:
    markers = {f"{MARKER_ENV}={rid}".encode() for rid in rehearsal_ids}
    children, targets = [], []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                children.append(int(entry.name))
            if markers & set(entry.joinpath("environ").read_bytes().split(b"\0")):
                targets.append(int(entry.name))
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
    threads = [t.name for t in threading.enumerate() if t.name.startswith(("fault-proxy-", "bench-"))]
    return {
        "listening_ports": listening_ports(),
        "child_processes": sorted(children),
        "target_processes": sorted(targets),
        "proxy_threads": threads,
    }


# -- report ---------------------------------------------------------------------------------------


def print_report(
    cells: list[Cell],
    added: dict[str, dict[str, float]],
    rehearsals: dict[str, Any],
    left: dict[str, list[Any]],
    checks: list[dict[str, Any]],
) -> None:
    header = (
        f"{'path':<13} {'conc':>4} {'reqs':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'req/s':>7} {'errors':>6} {'proxy cpu/req':>13}  cpu client/proxy/upstream"
    )
    print("", header, "-" * len(header), sep="\n")
    for c in cells:
        cpu = "/".join(f"{c.cpu_pct[name]}%" for name in ("client", "proxy", "upstream"))
        print(
            f"{c.path:<13} {c.concurrency:>4} {c.requests:>5} {c.p50_ms:>7.2f} {c.p95_ms:>7.2f} "
            f"{c.p99_ms:>7.2f} {c.max_ms:>7.2f} {c.rps:>7.1f} {c.errors:>6} "
            f"{c.proxy_cpu_ms_per_request:>10.3f} ms  {cpu}"
        )
    for path, delta in added.items():
        print(f"added by {path:<18} " + "  ".join(f"{p} {ms:+.2f} ms" for p, ms in delta.items()))
    parallel = rehearsals["parallel"]
    print(f"\n{parallel['count']} rehearsals in parallel, wall {parallel['wall_s']} s:")
    for r in parallel["rehearsals"]:
        print(
            f"  {r.get('scenario', '?'):<18} {r['status']:<10} {r['verdict']!s:<5} "
            f"gaps ok {r.get('backoff_ok')}  {r.get('duration_s', '')} s  {'; '.join(r['reasons'])}"
        )
    for label, block in (("alone", rehearsals["alone"]), ("parallel", parallel)):
        print(f"gap error (measured - nominal), {label}: {block['gap_error_ms']} ms")
    print(f"left behind: {left}\n")
    for check in checks:
        print(f"{'PASS' if check['passed'] else 'FAIL'}  {check['name']}: {check['detail']}")


def acceptance_checks(
    cells: list[Cell],
    added: dict[str, dict[str, float]],
    rehearsals: dict[str, Any],
    left: dict[str, list[Any]],
) -> list[dict[str, Any]]:
    direct, proxy = (
        next(c for c in cells if (c.path, c.concurrency) == (path, CONCURRENCY))
        for path in ("direct", "proxy")
    )
    p50, errors = added[f"proxy c={CONCURRENCY}"]["p50"], direct.errors + proxy.errors
    verdicts = [(r["status"], r["verdict"]) for r in rehearsals["parallel"]["rehearsals"]]
    passed = sum(1 for verdict in verdicts if verdict == ("completed", "pass"))
    return [
        {
            "name": f"added p50 latency of the proxy at c={CONCURRENCY} < {ADDED_P50_LIMIT_MS} ms",
            "passed": p50 < ADDED_P50_LIMIT_MS and errors == 0,
            "detail": f"{proxy.p50_ms:.2f} - {direct.p50_ms:.2f} = {p50:+.2f} ms, {errors} errors",
        },
        {
            "name": f"all {PARALLEL} parallel rehearsals pass",
            "passed": passed == PARALLEL,
            "detail": f"{passed}/{PARALLEL} completed with verdict pass",
        },
        {"name": "nothing left behind", "passed": not any(left.values()), "detail": str(left)},
    ]


PACKAGES = ("httptools", "uvloop", "aiohttp", "pydantic", "httpx", "tenacity")


# -- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
            upstream = start_upstream(procs)
            print(
                f"upstream up at {upstream}; {args.requests} requests per path and concurrency "
                f"{CONCURRENCIES} in {args.rounds} rounds; client, proxy and upstream share "
                f"{os.cpu_count()} CPUs",
                flush=True,
            )
            cells, ledger = measure_latency(upstream, args)
            rehearsals = rehearse(upstream, Path(tmp))
    finally:
        for proc in procs:
            stop_process(proc)
    left = leftovers(rehearsals["ids"])
    added = added_latency(cells)
    checks = acceptance_checks(cells, added, rehearsals, left)
    print_report(cells, added, rehearsals, left, checks)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": sys.argv,
                "machine": machine(PACKAGES),
                "concurrencies": CONCURRENCIES,
                "requests_per_cell": args.requests,
                "rounds": args.rounds,
                "load_generator": args.client,
                "warmup_per_round": WARMUP,
                "cells": [asdict(c) for c in cells],
                "added_ms": added,
                "proxy_ledgers": ledger,
                "rehearsals": rehearsals,
                "left_behind": left,
                "checks": checks,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nresults written to {RESULTS_FILE}")
    return 0 if all(check["passed"] for check in checks) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_REQUESTS} requests per path in {QUICK_ROUNDS} round",
    )
    parser.add_argument("--requests", type=int, default=None, help=f"per path (default {DEFAULT_REQUESTS})")
    parser.add_argument(
        "--client",
        choices=("lean", "aiohttp"),
        default="lean",
        help="load generator: lean (raw HTTP/1.1 on uvloop, default) or aiohttp's client",
    )
    parser.add_argument("--serve-upstream", type=int, metavar="FD", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rounds = QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS
    args.requests = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    if args.requests < args.rounds:
        parser.error(f"--requests must be at least {args.rounds}")
    return args


def main() -> int:
    args = parse_args()
    if args.serve_upstream is not None:
        serve_upstream(args.serve_upstream)
        return 0
    if args.load is not None:
        spec = json.loads(args.load)
        runner = uvloop.run if spec.get("client") == "lean" else asyncio.run
        print(json.dumps(runner(generate_load(**spec))))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
