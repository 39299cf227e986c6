"""Alert storms against a Slack stand-in that paces like Slack: a new incident's first post while 20
groups churn in its channel, Slack calls per group lifecycle, and a soak's backlog after the load."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from benchlib import machine, percentile, stop_process

from bot.slack_standin.model import Call
from bot.slack_standin.pacing import SlackLimits
from bot.slack_standin.server import SlackStandin

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results" / "alert_storm.json"
TOKEN = "bench-storm-token"
GROUPS = 20
ALERTS = 12
ROUND_GAP_S = 6.5  # three rounds of membership changes over 13 s
TARGET_P99_S = 3.0
SOAK_CHANNELS = 4
DRAIN_TARGET_S = 60.0
STARTED_AT = "2026-12-07T07:00:00Z"
SUMMARY = re.compile(r"^\d+ of \d+ resolved$")
MIGRATION = "storage/migrations/versions/0013_outbox_priority.py"


def notification(name: str, channel: str, firing: set[int], resolved: set[int], severity: str) -> bytes:
    """A webhook v4 body like Alertmanager's for group `name` routed to `channel`."""
    states = {**{i: "firing" for i in firing}, **{i: "resolved" for i in resolved}}
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": f"{name}A{i:02d}",
                "group": name,
                "room": channel,
                "severity": severity,
                "instance": f"api-{i}.prod.example.org:9100",
            },
            "annotations": {"summary": f"Retries above 5% on api-{i}"},
            "startsAt": STARTED_AT,
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-07T07:30:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph",
            "fingerprint": f"{name}-{i:04d}",
        }
        for i, status in sorted(states.items())
    ]
    body = {
        "receiver": name,  # the message's title: its alerts have names of their own
        "status": "firing" if firing else "resolved",
        "alerts": alerts,
        "groupLabels": {"group": name},
        "commonLabels": {"group": name, "room": channel, "severity": severity},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": "4",
        "groupKey": f'{{}}:{{group="{name}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


class Iris:
    """One `iris serve` (of this tree or of the anchor's) on a fresh SQLite file."""

    def __init__(self, python: Path, source: Path, standin: SlackStandin, channels: list[str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="iris-storm-")
        self.dir = Path(self._tmp.name)
        self.database = self.dir / "iris.db"
        routes = "".join(f"  - match: {{room: {c}}}\n    channel: {c}\n" for c in channels)
        (self.dir / "iris.yml").write_text(f"channels:\n  incidents: C0INC\nroutes:\n{routes}")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))} | {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_API_URL": standin.api_url,
            "IRIS_DATABASE_URL": f"sqlite:///{self.database}",
            "IRIS_CONFIG": str(self.dir / "iris.yml"),
            "IRIS_ALERT_TOKEN": TOKEN,
            "PYTHONPATH": str(source),
        }
        argv = [str(python), "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.dir / "iris.log").open("wb") as log:
            self.proc = subprocess.Popen(argv, env=env, cwd=source, stdout=log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.client.get("/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"iris serve did not become healthy; see {self.dir / 'iris.log'}")

    def send(self, body: bytes) -> None:
        answer = self.client.post(
            "/alerts/alertmanager", content=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        answer.raise_for_status()

    def backlog(self, due_only: bool = False) -> int:
        """Outbox rows not yet delivered (read with sqlite3, so it works for any IRIS version)."""
        where = "status IN ('pending', 'sending')"
        if due_only:  # a file held back on purpose (FILE_EVERY) is not due yet
            where += f" AND NOT (status = 'pending' AND attempts = 0 AND next_attempt_at > '{_sql_now()}')"
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as db:
            return int(db.execute(f"SELECT count(*) FROM outbox_message WHERE {where}").fetchone()[0])

    def backlog_by_kind(self) -> dict[str, int]:
        query = (
            "SELECT kind, count(*) FROM outbox_message WHERE status IN ('pending', 'sending') GROUP BY kind"
        )
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as db:
            return {str(kind): int(n) for kind, n in db.execute(query).fetchall()}

    def wait_drained(self, timeout: float, due_only: bool = False) -> float | None:
        """Seconds until the backlog is empty, or None if it is not within `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.backlog(due_only) == 0:
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    def close(self) -> None:
        self.client.close()
        stop_process(self.proc)
        self._tmp.cleanup()


def _sql_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- (a) and (b): the storm -------------------------------------------------------------------------


def storm(iris: Iris, standin: SlackStandin, channel: str, tag: str) -> dict[str, Any]:
    """20 groups fire, three rounds of changes over 13 s, a new critical group, then all resolve."""
    names = [f"{tag}G{g:02d}" for g in range(GROUPS)]
    members = {name: set(range(ALERTS)) for name in names}
    gone: dict[str, set[int]] = {name: set() for name in names}
    for name in names:
        iris.send(notification(name, channel, members[name], set(), "warning"))
    for round_ in range(3):
        time.sleep(ROUND_GAP_S if round_ else 0.5)
        for name in names:  # two alerts join, one resolves
            members[name] |= {ALERTS + 2 * round_, ALERTS + 2 * round_ + 1}
            gone[name].add(round_)
            members[name] -= {round_}
            iris.send(notification(name, channel, members[name], gone[name], "warning"))
    critical = f"{tag}CRIT"
    sent_at = time.monotonic()
    iris.send(notification(critical, channel, {0}, set(), "critical"))
    first = standin.wait_for(lambda s: _first_post(s, channel, critical), timeout=600)
    latency = first.received_at - sent_at
    for name in names:
        iris.send(notification(name, channel, set(), members[name] | gone[name], "warning"))
    iris.send(notification(critical, channel, set(), {0}, "critical"))
    return {"channel": channel, "critical_first_post_s": round(latency, 3)}


def _first_post(standin: SlackStandin, channel: str, name: str) -> Call | None:
    for call in standin.calls("chat.postMessage"):
        params = call.params
        top_level = params.get("channel") == channel and not params.get("thread_ts")
        if call.ok and top_level and name in str(params.get("text", "")):
            return call
    return None


def channel_calls(standin: SlackStandin, channel: str) -> dict[str, int]:
    """What reached Slack for one channel: accepted calls by kind, and 429s."""
    counts: Counter[str] = Counter()
    ts_of_channel = {m.ts for m in standin.messages(channel)}
    for call in standin.calls():
        params = call.params
        mine = params.get("channel") == channel or params.get("channel_id") == channel
        if call.method == "chat.update":
            mine = params.get("ts") in ts_of_channel
        if not mine:
            continue
        if call.status == 429:
            counts[f"429 {call.method}"] += 1
        elif call.ok and call.method == "chat.postMessage":
            counts["thread_replies" if params.get("thread_ts") else "new_messages"] += 1
        elif call.ok and call.method == "chat.update":
            counts["chat.update"] += 1
        elif call.ok and call.method == "files.completeUploadExternal":
            counts["files"] += 1
    # A file is three calls (files.getUploadURLExternal, the upload, files.completeUploadExternal).
    counts["slack_calls"] = counts["new_messages"] + counts["thread_replies"] + counts["chat.update"]
    counts["slack_calls"] += 3 * counts["files"]
    return dict(counts)


def what_people_read(standin: SlackStandin, channel: str) -> dict[str, Any]:
    """Per group: its message as it stands, the changes its thread tells, and its last file."""
    shown: dict[str, Any] = {}
    messages = standin.messages(channel)
    files = {}
    for file in standin.files():
        if file.thread_ts:
            files[file.thread_ts] = (file.data or b"").decode()
    for message in (m for m in messages if not m.thread_ts):
        lines = [
            line
            for reply in messages
            if reply.thread_ts == message.ts
            for line in reply.text.splitlines()
            if not SUMMARY.match(line)  # "n of m resolved" is of its moment: merged replies say it once
        ]
        name = message.text.split(": ", 1)[-1].split(" — ")[0]
        shown[name] = {
            "text": message.text,
            "blocks": json.dumps(message.blocks, sort_keys=True),
            "thread": sorted(lines),
            "file": files.get(message.ts, ""),
        }
    return shown


# -- (c): the soak ----------------------------------------------------------------------------------


def soak(iris: Iris, seconds: float, tag: str) -> dict[str, Any]:
    """Mixed load on SOAK_CHANNELS channels: a new group every 2 s, two membership changes a second,
    groups resolve after a minute; then how long the outbox takes to empty."""
    channels = [f"C0SOAK{c}" for c in range(SOAK_CHANNELS)]
    open_groups: dict[str, tuple[str, set[int], set[int], float]] = {}
    started, tick, made = time.monotonic(), 0, 0
    stop_at = started + seconds
    while time.monotonic() < stop_at:
        now = time.monotonic()
        if tick % 4 == 0:
            name = f"{tag}S{made:04d}"
            channel = channels[made % SOAK_CHANNELS]
            open_groups[name] = (channel, set(range(ALERTS)), set(), now)
            iris.send(notification(name, channel, set(range(ALERTS)), set(), "warning"))
            made += 1
        for name in sorted(open_groups)[tick % max(1, len(open_groups)) :][:1]:
            channel, firing, resolved, born = open_groups[name]
            if now - born > 60:
                iris.send(notification(name, channel, set(), firing | resolved, "warning"))
                del open_groups[name]
                continue
            new = max(firing | resolved) + 1
            gone = min(firing)
            firing, resolved = (firing | {new}) - {gone}, resolved | {gone}
            open_groups[name] = (channel, firing, resolved, born)
            iris.send(notification(name, channel, firing, resolved, "warning"))
        tick += 1
        time.sleep(max(0.0, started + tick * 0.5 - time.monotonic()))
    at_stop, kinds = iris.backlog(), iris.backlog_by_kind()
    due = iris.wait_drained(600, due_only=True)
    whole = iris.wait_drained(600)
    return {
        "seconds": seconds,
        "groups": made,
        "backlog_at_stop": at_stop,
        "backlog_at_stop_by_kind": kinds,
        "due_backlog_zero_after_s": None if due is None else round(due, 1),
        "backlog_zero_after_s": None if whole is None else round((due or 0) + whole, 1),
    }


# -- driver ------------------------------------------------------------------------------------------


def measure(label: str, python: Path, source: Path, reps: int, soak_s: float) -> dict[str, Any]:
    channels = [f"C0STORM{r:02d}" for r in range(reps)] + [f"C0SOAK{c}" for c in range(SOAK_CHANNELS)]
    with SlackStandin(pace_like_slack=SlackLimits()) as standin:
        iris = Iris(python, source, standin, channels)
        try:
            runs = []
            for r in range(reps):
                run = storm(iris, standin, channels[r], f"R{r:02d}")
                run["drained_s"] = iris.wait_drained(900, due_only=True)
                runs.append(run)
                print(f"  {label} rep {r + 1}/{reps}: critical first post {run['critical_first_post_s']} s")
            iris.wait_drained(900)
            calls = [channel_calls(standin, channels[r]) for r in range(reps)]
            read = [what_people_read(standin, channels[r]) for r in range(reps)]
            soaked = soak(iris, soak_s, label) if soak_s else None
        finally:
            iris.close()
    latencies = sorted(r["critical_first_post_s"] for r in runs)
    per_group = sum(c["slack_calls"] - 1 for c in calls) / (GROUPS * reps)  # less the critical post
    return {
        "label": label,
        "runs": runs,
        "p50_s": percentile(latencies, 50),
        "p99_s": percentile(latencies, 99),
        "max_s": latencies[-1],
        "calls": calls,
        "slack_calls_per_group": round(per_group, 2),
        "read": read,
        "soak": soaked,
    }


def anchor(commit: str, workdir: Path) -> tuple[Path, Path]:
    """The tree before the change, unpacked beside this one with its own virtualenv."""
    source = workdir / "before"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e", str(source)]
    subprocess.run(pip, check=True)
    return venv / "bin" / "python", source


def commit_before() -> str:
    """The commit before the one that added the outbox priorities."""
    added = subprocess.run(
        ["git", "-C", str(REPO), "log", "--diff-filter=A", "--format=%H", "--", MIGRATION],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return f"{added[-1]}^" if added else "HEAD"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 storms, a 60 s soak, 2 storms before")
    parser.add_argument("--reps", type=int, default=20, help="storms after the change (default 20)")
    parser.add_argument("--reps-before", type=int, default=5, help="storms before it (each ~2-3 min)")
    parser.add_argument("--soak", type=float, default=300.0, help="soak seconds (default 300)")
    parser.add_argument("--before", default=None, help="the anchor commit (default: before the change)")
    parser.add_argument("--no-before", action="store_true", help="skip the anchor")
    parser.add_argument("--only-before", action="store_true", help="only the anchor (beside another run)")
    parser.add_argument("--results", type=Path, default=RESULTS_FILE, help="where the JSON goes")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.reps_before, args.soak = 3, 2, 60.0
    results: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "machine": machine(("sqlalchemy",))}
    if not args.only_before:
        print(f"after: {args.reps} storms and a {args.soak:.0f} s soak")
        results["after"] = measure("after", Path(sys.executable), REPO, args.reps, args.soak)
    if not args.no_before:
        commit = args.before or commit_before()
        with tempfile.TemporaryDirectory(prefix="iris-before-") as tmp:
            python, source = anchor(commit, Path(tmp))
            print(f"before ({commit}): {args.reps_before} storms")
            results["before"] = measure("before", python, source, args.reps_before, 0)
            results["before"]["commit"] = commit
    return report(results, args.results)


def report(results: dict[str, Any], path: Path) -> int:
    after, before = results.get("after"), results.get("before")
    checks = {"a": after["p99_s"] < TARGET_P99_S} if after else {}
    print(f"\n{'':<8} {'storms':>6} {'p50 s':>7} {'p99 s':>7} {'max s':>7} {'calls/group':>12}")
    for side in (before, after):
        if side:
            n = len(side["runs"])
            print(
                f"{side['label']:<8} {n:>6} {side['p50_s']:>7.2f} {side['p99_s']:>7.2f} "
                f"{side['max_s']:>7.2f} {side['slack_calls_per_group']:>12.2f}"
            )
    for side in (before, after):
        if side:
            print(f"  {side['label']} calls in the first storm's channel: {side['calls'][0]}")
    if before and after:
        checks["b"] = after["slack_calls_per_group"] <= before["slack_calls_per_group"] / 2
        same = _same_reading(before["read"][0], after["read"][0])
        checks["b: same information"] = same
    soaked = after["soak"] if after else None
    if soaked:
        print(f"  soak: {soaked}")
        zero = soaked["backlog_zero_after_s"]
        checks["c"] = zero is not None and zero <= DRAIN_TARGET_S
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'} ({name})")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({**results, "checks": checks}, indent=2))
    return 0 if all(checks.values()) else 1


def _same_reading(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The final messages, the changes their threads tell and the last files, group by group."""
    differing = [name for name in before if before[name] != after.get(name)]
    for name in differing[:3]:
        for key in ("text", "blocks", "thread", "file"):
            if before[name][key] != after.get(name, {}).get(key):
                print(f"  differs: {name} {key}")
    return not differing and before.keys() == after.keys()


if __name__ == "__main__":
    threading.current_thread().name = "alert-storm"
    sys.exit(main())
