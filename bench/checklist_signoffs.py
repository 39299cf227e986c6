"""Checklist sign-offs through `iris serve`: click-to-edit latency, and 20 people clicking one item."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ack_latency import free_port, iris_env, start_server
from benchlib import machine, percentile, stop_process
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "checklist_signoffs.json"
ITEMS = 60
CLICKERS = 20
DEFAULT_ROUNDS, QUICK_ROUNDS = 10, 3
QUICK_ITEMS = 20
WAIT_S = 30.0
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEMPLATE = "---\nname: bench\nversion: '1'\n---\n" + "".join(
    f"## Part {part}\n" + "".join(f"- [ ] Step {part}.{n}\n" for n in range(1, 13)) for part in range(1, 6)
)


@dataclass
class Row:
    backend: str
    clicks: int
    ack_p50_ms: float
    ack_p95_ms: float
    edit_p50_ms: float
    edit_p95_ms: float
    edit_max_ms: float
    rounds: int
    clickers: int
    race_p50_ms: float  # from the first click of a round until every loser was answered
    race_max_ms: float
    standing_per_item: list[int]  # sign-offs standing on each raced item: must all be 1


def _ms(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    return (
        round(percentile(ordered, 50) * 1000, 1),
        round(percentile(ordered, 95) * 1000, 1),
        round(ordered[-1] * 1000, 1),
    )


def _message_text(standin: SlackStandin, checklist: int) -> str:
    found = [m for m in standin.messages("C0OPS") if m.text.startswith(f"Checklist {checklist}: ")]
    return found[0].text if found else ""


def sequential(
    driver: SlackDriver, standin: SlackStandin, checklist: int, clicks: int
) -> tuple[list[float], list[float]]:
    """One click at a time: how long the ack takes, and until the message shows the new count."""
    acks, edits = [], []
    for position in range(1, clicks + 1):
        started = time.perf_counter()
        answer = driver.block_action("checklist_sign", f"{checklist}:{position}", user_id=f"USEQ{position}")
        acks.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.body
        expected = f"{position}/{ITEMS} signed" if position < ITEMS else "complete"  # no approval step
        standin.wait_for(lambda s, shown=expected: shown in _message_text(s, checklist), timeout=WAIT_S)
        edits.append(time.perf_counter() - started)
    return acks, edits


def race(driver: SlackDriver, standin: SlackStandin, checklist: int, position: int) -> float:
    """CLICKERS people click one item at once; returns the time until all but one were told so."""
    barrier = threading.Barrier(CLICKERS + 1)
    names: list[str | None] = [None] * CLICKERS

    def click(n: int) -> None:
        request = driver.build_block_action("checklist_sign", f"{checklist}:{position}", user_id=f"URACE{n}")
        barrier.wait()
        result = driver.raw(request.body, request.headers)
        names[n] = request.response_url_name if result.status_code == 200 else None

    threads = [threading.Thread(target=click, args=(n,)) for n in range(CLICKERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=WAIT_S)
    assert all(names), "a click was not acked with 200"
    standin.wait_for(lambda s: sum(1 for n in names if n and s.responses(n)) == CLICKERS - 1, timeout=WAIT_S)
    return time.perf_counter() - started


def standing(url: str, checklist: int, rounds: int) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT position, count(*) FROM checklist_signoff WHERE checklist_id = :c "
                "AND undone_at IS NULL GROUP BY position ORDER BY position"
            ),
            {"c": checklist},
        ).all()
    engine.dispose()
    counts = dict(rows)
    return [int(counts.get(p, 0)) for p in range(1, rounds + 1)]


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"iris_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_backend(backend: str, url: str | None, args: argparse.Namespace) -> Row:
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp, SlackStandin() as standin:
        tmpdir = Path(tmp)
        (tmpdir / "checklists").mkdir()
        (tmpdir / "checklists" / "bench.md").write_text(TEMPLATE)
        (tmpdir / "iris.yml").write_text(
            "roles:\n  release_managers: [URM]\nfolders:\n  checklists: checklists\n"
        )
        env = iris_env(tmpdir, secret, standin) | {"IRIS_CONFIG": str(tmpdir / "iris.yml")}
        url = url or env["IRIS_DATABASE_URL"]
        env["IRIS_DATABASE_URL"] = url
        procs: list = []
        try:
            base = start_server(
                "iris",
                [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
                free_port(),
                env,
                tmpdir,
                procs,
            )
            with SlackDriver(base, secret, standin=standin) as driver:
                for checklist in (1, 2):
                    driver.command("checklist start bench", user_id="URM")
                    standin.wait_for(lambda s, c=checklist: _message_text(s, c), timeout=WAIT_S)
                acks, edits = sequential(driver, standin, 1, args.items)
                races = [race(driver, standin, 2, position) for position in range(1, args.rounds + 1)]
        finally:
            for proc in procs:
                stop_process(proc)
        ack50, ack95, _ = _ms(acks)
        edit50, edit95, edit_max = _ms(edits)
        race50, _, race_max = _ms(races)
        return Row(
            backend,
            args.items,
            ack50,
            ack95,
            edit50,
            edit95,
            edit_max,
            args.rounds,
            CLICKERS,
            race50,
            race_max,
            standing(url, 2, args.rounds),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ITEMS} clicks and {QUICK_ROUNDS} races")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    args.items, args.rounds = (QUICK_ITEMS, QUICK_ROUNDS) if args.quick else (ITEMS, DEFAULT_ROUNDS)
    rows = [run_backend("sqlite", None, args)]
    if not args.no_postgres:
        with postgres_database() as url:
            rows.append(run_backend("postgresql", url, args))
    print(
        "| backend | clicks | ack p50/p95 ms | click→edit p50/p95/max ms | races × clickers | "
        "race p50/max ms | sign-offs standing per raced item |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r.backend} | {r.clicks} | {r.ack_p50_ms} / {r.ack_p95_ms} | "
            f"{r.edit_p50_ms} / {r.edit_p95_ms} / {r.edit_max_ms} | {r.rounds} × {r.clickers} | "
            f"{r.race_p50_ms} / {r.race_max_ms} | {r.standing_per_item} |"
        )
    ok = all(r.standing_per_item == [1] * r.rounds for r in rows)
    print(("PASS" if ok else "FAIL") + ": exactly one sign-off standing on every raced item")
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    facts = machine(("slack-bolt", "sqlalchemy", "psycopg"))
    body = {"at": datetime.now(UTC).isoformat(), "rows": [asdict(r) for r in rows], "machine": facts}
    RESULTS_FILE.write_text(json.dumps(body, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
