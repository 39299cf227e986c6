"""Alert webhook ingest of `iris serve` (webhook → stored), and Slack calls per alert lifecycle."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from benchlib import machine, percentile, stop_process

from bot.slack_standin.server import SlackStandin
from storage.db import open_engine, read_scope

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "alert_ingest.json"
TOKEN = "bench-alert-token"
ALERTS_PER_PAYLOAD = 100
CONCURRENCY = 20
DEFAULT_PAYLOADS = 600
TARGET_ALERTS_PER_S = 2000.0
TARGET_P99_MS = 100.0
IRIS_YML = "channels:\n  incidents: C0INC\nroutes:\n  - match: {job: lifecycle}\n    channel: C0LIFE\n"
LIFECYCLE_GROUP = 99_999
STARTED_AT = "2024-12-12T07:00:00.123456789Z"


@dataclass
class Phase:
    name: str
    payloads: int
    alerts: int
    wall_s: float
    alerts_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    stored_alerts: int


def payload(
    group: int,
    status: str = "firing",
    alerts: int = ALERTS_PER_PAYLOAD,
    resolved: frozenset[int] = frozenset(),
    job: str = "payments",
) -> bytes:
    """A webhook v4 body like Alertmanager's: one group of `alerts` alerts of realistic size."""
    name = f"BenchAlert{group:05d}"
    items = [
        {
            "status": "resolved" if i in resolved else status,
            "labels": {
                "alertname": name,
                "instance": f"api-{i}.prod.example.org:9100",
                "job": job,
                "severity": "critical",
                "region": "ap-northeast-2",
            },
            "annotations": {
                "summary": f"Retries above 5% on api-{i}",
                "description": "504s from the upstream make the client retry with back-off",
                "runbook_url": "https://runbooks.example.org/retry-burst",
            },
            "startsAt": STARTED_AT,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=rate%28retries_total%5B5m%5D%29",
            "fingerprint": f"{group:08x}{i:08x}",
        }
        for i in range(alerts)
    ]
    body = {
        "receiver": "iris",
        "status": status,
        "alerts": items,
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "job": job, "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


async def _post(client: aiohttp.ClientSession, url: str, body: bytes) -> bool:
    async with client.post(url, data=body, headers=HEADERS) as response:
        await response.read()
        return response.status == 200


async def _closed_loop(url: str, bodies: list[bytes]) -> tuple[list[float], int, float]:
    """CONCURRENCY senders, each sending its next payload as soon as the last one was answered."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    errors = [0]

    async def worker(client: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            errors[0] += not await _post(client, url, body)
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return latencies, errors[0], time.perf_counter() - started


async def _paced(url: str, bodies: list[bytes], alerts_per_s: float) -> tuple[list[float], int, float]:
    """Payloads sent on a fixed schedule, at most CONCURRENCY in flight; latency counts from the
    scheduled moment, so a request that had to wait for a free sender is not flattered."""
    interval = ALERTS_PER_PAYLOAD / alerts_per_s
    slots = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    errors = [0]

    async def one(client: aiohttp.ClientSession, body: bytes, due: float) -> None:
        async with slots:
            errors[0] += not await _post(client, url, body)
        latencies.append(time.perf_counter() - due)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as client:
        started = time.perf_counter()
        tasks = []
        for i, body in enumerate(bodies):
            due = started + i * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(client, body, due)))
        await asyncio.gather(*tasks)
        return latencies, errors[0], time.perf_counter() - started


def run_phase(
    name: str, base_url: str, bodies: list[bytes], database_url: str, rate: float | None = None
) -> Phase:
    url = base_url + "/alerts/alertmanager"
    load = _closed_loop(url, bodies) if rate is None else _paced(url, bodies, rate)
    latencies, errors, wall = asyncio.run(load)
    ordered = sorted(latencies)
    ms = [round(percentile(ordered, p) * 1000, 2) for p in (50, 95, 99, 100)]
    alerts = len(bodies) * ALERTS_PER_PAYLOAD
    return Phase(
        name,
        len(bodies),
        alerts,
        round(wall, 2),
        round(alerts / wall, 1),
        *ms,
        errors=errors,
        stored_alerts=stored_alerts(database_url),
    )


def stored_alerts(database_url: str) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.alerts import Alert

    engine = open_engine(database_url)
    try:
        with read_scope(engine) as session:
            return int(session.exec(select(func.count()).select_from(Alert)).one())
    finally:
        engine.dispose()


# -- Slack calls per alert lifecycle ----------------------------------------------------------------

LIFECYCLE = (  # (what Alertmanager sends, the alerts in it: firing count, resolved indexes)
    ("first alert fires", 1, frozenset()),
    ("repeat, no change", 1, frozenset()),
    ("repeat, no change", 1, frozenset()),
    ("second alert joins", 2, frozenset()),
    ("repeat, no change", 2, frozenset()),
    ("first alert resolves", 2, frozenset({0})),
    ("repeat, no change", 2, frozenset({0})),
    ("second alert resolves", 2, frozenset({0, 1})),
)


def slack_calls_per_lifecycle(base_url: str, standin: SlackStandin) -> dict[str, Any]:
    """Drive one group through fire → update → resolve; count what reached Slack after each step."""
    import httpx

    steps = []
    for what, count, resolved in LIFECYCLE:
        status = "resolved" if len(resolved) == count else "firing"
        body = payload(LIFECYCLE_GROUP, status, alerts=count, resolved=resolved, job="lifecycle")
        answer = httpx.post(
            base_url + "/alerts/alertmanager",
            content=body,
            timeout=30,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        answer.raise_for_status()
        time.sleep(3.0)  # let the notifier and the poster settle before the next notification
        steps.append({"step": what, "calls_so_far": _counts(standin)})
    return {
        "steps": steps,
        "iris": _counts(standin),
        "notifications": len(LIFECYCLE),
        "alertmanager_slack_receiver": {
            "chat.postMessage": len(LIFECYCLE),
            "new_channel_messages": len(LIFECYCLE),
        },
    }


def _counts(standin: SlackStandin) -> dict[str, int]:
    """Calls for the lifecycle's own channel only (the earlier phases' posts may still be draining)."""
    posts = [
        c
        for c in standin.calls("chat.postMessage")
        if c.status == 200 and c.params.get("channel") == "C0LIFE"
    ]
    threaded = sum(1 for c in posts if c.params.get("thread_ts"))
    updates = [c for c in standin.calls("chat.update") if c.params.get("channel") == "C0LIFE"]
    return {
        "chat.postMessage": len(posts),
        "chat.update": len(updates),
        "new_channel_messages": len(posts) - threaded,
        "thread_replies": threaded,
    }


# -- driver ---------------------------------------------------------------------------------------


def start_iris(tmpdir: Path, standin: SlackStandin, port: int) -> subprocess.Popen[bytes]:
    (tmpdir / "iris.yml").write_text(IRIS_YML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))} | {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "bench",
        "SLACK_API_URL": standin.api_url,
        "IRIS_DATABASE_URL": f"sqlite:///{tmpdir}/iris.db",
        "IRIS_CONFIG": str(tmpdir / "iris.yml"),
        "IRIS_ALERT_TOKEN": TOKEN,
    }
    script = Path(sys.executable).with_name("iris")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    with (tmpdir / "iris.log").open("wb") as log:
        return subprocess.Popen(
            [*argv, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmpdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("iris serve did not become healthy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--payloads",
        type=int,
        default=DEFAULT_PAYLOADS,
        help=f"100-alert payloads per phase (default {DEFAULT_PAYLOADS})",
    )
    args = parser.parse_args()
    return run(args.payloads)


def run(payloads: int) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp, SlackStandin() as standin:
        tmpdir = Path(tmp)
        database_url = f"sqlite:///{tmpdir}/iris.db"
        proc = start_iris(tmpdir, standin, port)
        try:
            wait_healthy(base_url, proc)
            phases = run_phases(base_url, database_url, payloads)
            lifecycle = slack_calls_per_lifecycle(base_url, standin)
        finally:
            stop_process(proc)
    report(phases, lifecycle)
    return 0 if all(_passed(p) for p in phases if "target" in p.name) else 1


def run_phases(base_url: str, database_url: str, payloads: int) -> list[Phase]:
    """Saturation (closed loop) first, then the target rate (paced), each for new groups and repeats."""
    run_phase("warm-up", base_url, [payload(900_000 + g) for g in range(40)], database_url)
    groups = [range(0, payloads), range(payloads, 2 * payloads)]
    return [
        run_phase("new, closed loop", base_url, [payload(g) for g in groups[0]], database_url),
        run_phase("repeat, closed loop", base_url, [payload(g) for g in groups[0]], database_url),
        run_phase(
            "new, at target", base_url, [payload(g) for g in groups[1]], database_url, TARGET_ALERTS_PER_S
        ),
        run_phase(
            "repeat, at target", base_url, [payload(g) for g in groups[1]], database_url, TARGET_ALERTS_PER_S
        ),
    ]


def _passed(phase: Phase) -> bool:
    # The paced phases send exactly the target rate; 2 % slack for the schedule's start and tail.
    return (
        phase.alerts_per_s >= 0.98 * TARGET_ALERTS_PER_S
        and phase.p99_ms < TARGET_P99_MS
        and phase.errors == 0
    )


def report(phases: list[Phase], lifecycle: dict[str, Any]) -> None:
    print(
        f"{'phase':<20} {'payloads':>8} {'alerts/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>6} {'stored':>7}"
    )
    for p in phases:
        print(
            f"{p.name:<20} {p.payloads:>8} {p.alerts_per_s:>9.1f} {p.p50_ms:>8.2f} {p.p95_ms:>8.2f} "
            f"{p.p99_ms:>8.2f} {p.max_ms:>8.2f} {p.errors:>6} {p.stored_alerts:>7}"
        )
    for p in phases:
        if "target" in p.name:
            verdict = "PASS" if _passed(p) else "FAIL"
            print(
                f"{verdict} {p.name}: {p.alerts_per_s:.0f} alerts/s (target ≥ {TARGET_ALERTS_PER_S:.0f}), "
                f"p99 {p.p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f})"
            )
    print(
        f"\nSlack calls for one group's lifecycle ({lifecycle['notifications']} Alertmanager notifications):"
    )
    for step in lifecycle["steps"]:
        print(f"  {step['step']:<24} {step['calls_so_far']}")
    print(f"  IRIS: {lifecycle['iris']}")
    print(f"  Alertmanager's Slack receiver: {lifecycle['alertmanager_slack_receiver']}")
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "machine": machine(("slack-bolt", "uvicorn", "starlette", "sqlalchemy")),
                "phases": [asdict(p) for p in phases],
                "lifecycle": lifecycle,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
