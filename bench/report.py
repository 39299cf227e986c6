"""Daily report build time on a busy day: 200 rehearsals, 2,000 alert groups and 500 notes (issue 11).

Fills one day (2024-12-12 in Asia/Seoul) of a real, migrated database the way the features write it:
rehearsals judged by IRIS's own analysis (runs, ledger entries, verdicts, evidence, the parent message,
run replies, the timeline PNG and the JSON journal in the outbox, as the Slack watcher queues them),
alert groups with their alerts, events and Slack posts, the team's notes, alert-test runs, checklist
template versions, checklists, and briefings. The outbox keeps what was sent, files included, because
the report reads it: its references are the journals uploaded that day, each linked to its thread.
The days around it (--around, default 1) get as much again, so each day-window query has rows to
leave out. Then it times what a person waits for: `ReportService.written` (collect from the
database, compose, Markdown, HTML) plus the Slack message (`render_report`), both languages
alternating, and separately each of those stages.

Anchor (issue 11): report build p99 under 1 s on SQLite and on PostgreSQL. By default one run fills
a fresh SQLite file, then a fresh PostgreSQL database (`iris_bench_report`, dropped afterwards); it
exits 1 if a check fails on either.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import io
import json
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchlib import machine, percentile
from sqlalchemy import Connection, Engine, create_engine, func, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, select

from bot.i18n import translator
from bot.rehearsals.analysis import analyse_run, judge
from bot.rehearsals.chart import render_timeline
from bot.rehearsals.evidence import CheckResult, EvidenceReport
from bot.rehearsals.ledger import LedgerEntry
from bot.rehearsals.runner import RehearsalResult
from bot.rehearsals.scenario import Scenario, parse_scenario
from bot.reports.compose import Byline, compose
from bot.reports.day import collect
from bot.reports.render import render_html, render_markdown
from bot.reports.service import ReportService, Written
from bot.reports.settings import ReportsConfig
from commands import registry
from commands.alerts.alert_test import CASE_NAMES
from commands.rehearsals.publisher import journal_file
from commands.reports.views import CODE_CHARS, MAX_CODE_BLOCKS, render_report
from storage.alerts import Alert, AlertEvent, AlertGroup, AlertTestRun
from storage.briefings import Briefing, BriefingAnswer, BriefingFiring
from storage.checklists import Checklist, ChecklistItem, ChecklistSignoff, ChecklistTemplate
from storage.db import open_engine, read_scope
from storage.migrate import upgrade
from storage.outbox import OutboxMessage
from storage.rehearsals import Rehearsal, RehearsalAttempt, RehearsalRun
from storage.reports import Note

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "report.json"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE = "iris_bench_report"
ZONE = "Asia/Seoul"
DAY = date(2024, 12, 12)
P99_TARGET_MS = 1000.0
DEFAULT_BUILDS, QUICK_BUILDS = 50, 10
LANGS = ("en", "ko")
PACKAGES = ("sqlalchemy", "sqlmodel", "psycopg", "jinja2", "babel", "slack-sdk")
# Slack's limits for one message (docs.slack.dev, Block Kit and chat.postMessage).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_HEADER_TEXT = 150
SLACK_MAX_TEXT = 40_000  # chat.postMessage truncates `text` beyond this
SETTINGS = ReportsConfig(
    author="Kang Cheol-su",
    reviewer="Kang Hye-jin",
    stage="Step 4: operational stability",
    keywords=["automation rehearsal", "retry QA"],
)
BYLINE = Byline(user="URM")  # as `/iris report` asks: whoever typed it
CHUNK = 1000  # rows per executemany

# The brief's rehearsal (examples/scenarios): 504 injected on attempts 1 and 2, back-off from 1 s.
SCENARIO_FILE = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "automation-v1.2.yml"
SCENARIOS = (
    "automation-v1.2",
    "billing-retry",
    "payments-gateway",
    "order-sync",
    "inventory-batch",
    "ledger-export",
    "notify-fanout",
    "search-reindex",
    "auth-token-refresh",
    "report-upload",
    "kyc-callback",
    "settlement-close",
)
Hit = tuple[int, float]  # the status answered, and how long the client waited before sending it
TEXTBOOK: list[Hit] = [(504, 0.0), (504, 1.01), (201, 2.02)]
NO_WAIT: list[Hit] = [(504, 0.0), (504, 0.02), (201, 0.02)]  # retries at once: gaps out of bounds
UPSTREAM_LATENCY = 0.25
ALERTS = (  # alertname, severity, namespace
    ("KubePodCrashLooping", "critical", "payments"),
    ("HighErrorRate5xx", "critical", "gateway"),
    ("RetryBurst", "warning", "automation"),
    ("SlowResponsesP99", "warning", "gateway"),
    ("DiskSpaceLow", "warning", "batch"),
    ("NodeMemoryPressure", "critical", "infra"),
    ("CertificateExpiringSoon", "info", "infra"),
    ("QueueBacklogGrowing", "warning", "orders"),
    ("DatabaseReplicationLag", "critical", "db"),
    ("JobFailedRepeatedly", "warning", "batch"),
    ("UpstreamTimeouts", "critical", "automation"),
    ("KafkaConsumerLag", "warning", "streaming"),
    ("TooManyRestarts", "warning", "search"),
    ("HostDown", "critical", "infra"),
    ("SLOBurnRateFast", "critical", "payments"),
    ("SLOBurnRateSlow", "warning", "payments"),
    ("ExporterScrapeFailed", "info", "monitoring"),
    ("ApiLatencyRegression", "warning", "api"),
    ("ConnectionPoolExhausted", "critical", "db"),
    ("CronJobMissed", "warning", "batch"),
)
NOTE_KINDS = ("goal",) * 3 + ("work",) * 30 + ("problem",) * 22 + ("next",) * 23 + ("ref",) * 22
NOTE_TEXTS = {
    "goal": (
        "Prove the automation retries 504s with back-off before the {n} patch",
        "자동화 패치 {n} 전에 재시도 동작을 검증한다",
    ),
    "work": (
        "Reviewed retry logs of batch #{n} with the QA team",
        "배치 #{n} 재시도 로그를 QA 팀과 검토함",
        "Tuned `max_attempts` for job_{n} (was 3, now 4) *after* review",
    ),
    "problem": (
        "Gateway answered 502 instead of 504 on run {n}; client gave up early",
        "{n}번째 실행에서 타임아웃 후 재시도가 없었음 <확인 필요>",
    ),
    "next": (
        "Re-run rehearsal {n} with jitter=full",
        "{n}번 시나리오에 Grafana 대시보드 링크 추가",
    ),
    "ref": (
        "https://wiki.example.org/ops/retry-policy/{n}",
        "Runbook | retry storm #{n}",
    ),
}


def moment(day: date, seconds: float) -> datetime:
    """`seconds` after midnight of `day` on the team's clock, in UTC."""
    midnight = datetime.combine(day, clock_time(0), tzinfo=ZoneInfo(ZONE))
    return (midnight + timedelta(seconds=seconds)).astimezone(UTC)


def spread(index: int, count: int, margin: float = 0.0) -> float:
    """The index-th of `count` moments spread evenly over a day, `margin` seconds clear of each end."""
    return margin + index * (86400 - 2 * margin) / max(count, 1)


# --- rehearsals as IRIS's analysis judges them ----------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One kind of rehearsal, judged once by the real analysis and stored many times."""

    status: str
    verdict: str | None
    summary: dict[str, Any]  # RehearsalResult.to_json() without the journal, as the service stores it
    runs: list[dict[str, Any]]  # rehearsal_run rows without rehearsal_id
    attempts: list[dict[str, Any]]  # rehearsal_attempt rows without rehearsal_id
    journal: str  # the uploaded JSON journal
    timeline_b64: str  # the uploaded PNG, as the outbox keeps it
    reason: str | None


def _ledger(run: int, hits: list[Hit], start: float) -> list[LedgerEntry]:
    entries, answered = [], start
    for attempt, (status, wait) in enumerate(hits, start=1):
        injected = status == 504
        received = answered + wait
        answered = received if injected else received + UPSTREAM_LATENCY
        entries.append(
            LedgerEntry(
                run,
                "gw-timeout",
                attempt,
                "POST",
                "/v1/jobs",
                received,
                answered,
                status,
                injected,
                None,
                None if injected else UPSTREAM_LATENCY,
                None,
            )
        )
    return entries


def _evidence(apm: bool | None) -> dict[str, Any]:
    checks = [
        CheckResult("gw-5xx", "prometheus", True, 10, "= 10", "10 gateway 504s counted"),
        CheckResult("apm-errors", "elasticsearch", apm, 10 if apm else None, "= 10", "APM error count"),
        CheckResult("slack-alert", "alerts", True, 1, ">= 1", "the retry alert fired once"),
    ]
    return EvidenceReport(checks).to_json()


def _shape(
    scenario: Scenario,
    runs: list[list[Hit]],
    *,
    status: str = "completed",
    apm: bool | None = True,
    notes: tuple[str, ...] = (),
) -> Shape:
    results, entries = [], []
    for number, hits in enumerate(runs, start=1):
        mine = _ledger(number, hits, start=1000.0 * number)
        results.append(analyse_run(scenario, number, mine, exit_code=0, timed_out=False))
        entries += mine
    verdict = judge(scenario, results, evidence_unreachable=apm is None) if status == "completed" else None
    result = RehearsalResult(
        scenario.name,
        "r-00000000",
        status,
        verdict,
        results,
        [entry.to_dict() for entry in entries],
        0.0,
        16 * 60.0,
        list(notes),
        {
            r.run: "Traceback (most recent call last): ... GatewayTimeout"
            for r in results
            if r.outcome != "recovered"
        },
        _evidence(apm) if status == "completed" else None,
        "qa",
    )
    return Shape(
        status,
        verdict.verdict if verdict else None,
        {k: v for k, v in result.to_json().items() if k != "journal"},
        [
            {
                "run": r.run,
                "outcome": r.outcome,
                "exit_code": r.exit_code,
                "recovery": r.recovery,
                "faults_injected": r.faults_injected,
                "reasons": json.dumps(r.reasons, ensure_ascii=False),
                "detail": json.dumps(asdict(r), ensure_ascii=False),
            }
            for r in results
        ],
        [asdict(entry) for entry in entries],
        journal_file(result),
        base64.b64encode(render_timeline(result)).decode("ascii"),
        "; ".join(notes) or None,
    )


def shapes() -> dict[str, Shape]:
    scenario = parse_scenario(SCENARIO_FILE.read_text(), SCENARIO_FILE)
    return {
        "pass": _shape(scenario, [TEXTBOOK] * 5),
        "fail": _shape(scenario, [TEXTBOOK, TEXTBOOK, NO_WAIT, TEXTBOOK, NO_WAIT], apm=False),
        "inconclusive": _shape(scenario, [TEXTBOOK] * 5, apm=None),
        "aborted": _shape(
            scenario, [TEXTBOOK] * 2, status="aborted", notes=("aborted during run 3 of 5 by <@URM>",)
        ),
    }


def shape_of(index: int) -> str:
    """Mostly pass; 15 of 200 fail, 10 are inconclusive and 2 were aborted, for the problems section."""
    if index % 100 == 99:
        return "aborted"
    if index % 40 in (7, 19, 33):
        return "fail"
    if index % 40 in (12, 28):
        return "inconclusive"
    return "pass"


# --- writing rows ---------------------------------------------------------------------------------------


def _values(row: SQLModel) -> dict[str, Any]:
    values = row.model_dump()
    if values.get("id") is None:
        values.pop("id", None)
    return values


def add(
    connection: Connection, rows: Sequence[SQLModel | dict[str, Any]], model: type[SQLModel]
) -> list[int]:
    """Insert in batches of CHUNK (one executemany each); the new ids in the rows' order, if generated."""
    table = model.__table__  # type: ignore[attr-defined]
    values = [row if isinstance(row, dict) else _values(row) for row in rows]
    ids: list[int] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        if "id" in chunk[0]:  # ids given (a rehearsal's): nothing to return
            connection.execute(insert(table), chunk)
        else:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids += [int(i) for i in connection.execute(statement, chunk).scalars().all()]
    return ids


def _message(
    source: str,
    lane: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    ref_id: int | None = None,
    n: int = 0,
) -> dict[str, Any]:
    """An outbox row as the poster leaves it once Slack took it: sent, with its channel and ts."""
    return {
        "lane": lane,
        "kind": kind,
        "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        "ref_id": ref_id,
        "dedupe_key": None,
        "source": source,
        "status": "sent",
        "attempts": 1,
        "created_at": at,
        "next_attempt_at": at,
        "claimed_by": None,
        "lease_until": None,
        "failing_since": None,
        "sent_at": at + timedelta(seconds=1),
        "slack_channel": lane,
        "slack_ts": _ts(at, n),
        "slack_file_id": f"F{_ts(at, n).replace('.', '')}" if kind == "upload" else None,
        "last_error": None,
    }


def _blocks(title: str, lines: list[str]) -> dict[str, Any]:
    return {
        "text": title,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "IRIS"}]},
        ],
    }


def _ts(at: datetime, n: int) -> str:
    return f"{int(at.timestamp())}.{n % 1_000_000:06d}"


@dataclass
class Seeder:
    """Writes one day as the features would have: every method is one feature's share of the day."""

    connection: Connection
    shapes: dict[str, Shape]
    rng: random.Random

    def day(self, day: date, args: argparse.Namespace) -> dict[str, int]:
        counts = {
            "rehearsals": self.rehearsals(day, args.rehearsals),
            "alert_groups": self.alert_groups(day, args.alert_groups),
            "notes": self.notes(day, args.notes),
            "alert_tests": self.alert_tests(day),
            "templates": self.templates(day),
            "checklists": self.checklists(day),
            "briefings": self.briefings(day),
        }
        return counts

    def rehearsals(self, day: date, count: int) -> int:
        starts, rows, parents = [], [], []
        for i in range(count):
            started = moment(day, spread(i, count, margin=300))
            scenario = SCENARIOS[i % len(SCENARIOS)]
            starts.append(started)
            title = f"Rehearsal of {scenario}"
            parents.append(
                _message(
                    "rehearsal",
                    "C0OPS",
                    "post",
                    _blocks(title, [f"run {n}: recovered" for n in range(1, 6)]),
                    started,
                    None,
                    i,
                )
            )
        message_ids = add(self.connection, parents, OutboxMessage)
        runs, attempts, replies = [], [], []
        for i, (started, message_id) in enumerate(zip(starts, message_ids, strict=True)):
            shape = self.shapes[shape_of(i)]
            rid = f"r-{day:%m%d}{i:04x}"
            scenario = SCENARIOS[i % len(SCENARIOS)]
            ended = started + timedelta(minutes=16)
            summary = shape.summary | {"rehearsal_id": rid, "scenario": scenario}
            rows.append(
                {
                    "id": rid,
                    "scenario": scenario,
                    "status": shape.status,
                    "verdict": shape.verdict,
                    "runs_planned": 5,
                    "runs_done": len(shape.runs),
                    "dry_run": False,
                    "started_by": "URM",
                    "channel_id": "C0OPS",
                    "owner": "iris-1",
                    "message_id": message_id,
                    "started_at": started,
                    "ended_at": ended,
                    "summary": json.dumps(summary, ensure_ascii=False),
                    "reason": shape.reason,
                }
            )
            runs += [run | {"rehearsal_id": rid} for run in shape.runs]
            attempts += [attempt | {"rehearsal_id": rid} for attempt in shape.attempts]
            for n in range(1, len(shape.runs) + 1):
                reply = {"channel": "C0OPS", "text": f"Run {n} of 5: recovered in 3.28 s"}
                at = started + timedelta(minutes=3 * n)
                replies.append(_message("rehearsal", "C0OPS", "post", reply, at, message_id, n))
            final = _blocks(f"Rehearsal of {scenario}: {shape.verdict or shape.status}", ["figures"] * 8)
            replies.append(_message("rehearsal", "C0OPS", "update", final, ended, message_id, i))
            for filename, content in (
                (f"{rid}-timeline.png", {"content_base64": shape.timeline_b64}),
                (f"{rid}-journal.json", {"content": shape.journal}),
            ):
                payload = {"channel": "C0OPS", "filename": filename, "title": filename} | content
                replies.append(_message("rehearsal", "C0OPS", "upload", payload, ended, message_id, i))
        add(self.connection, rows, Rehearsal)
        add(self.connection, runs, RehearsalRun)
        add(self.connection, attempts, RehearsalAttempt)
        add(self.connection, replies, OutboxMessage)
        return count

    def alert_groups(self, day: date, count: int) -> int:
        """`count` groups fired that day; most of one alert, some of dozens, one in a hundred of 120."""
        plans = []
        for g in range(count):
            name, severity, namespace = ALERTS[(g * 7) % len(ALERTS)]
            size = 120 if g % 100 == 0 else self.rng.randint(6, 20) if g % 10 == 3 else 1
            size = self.rng.randint(2, 5) if g % 10 in (1, 2) else size
            fired = moment(day, spread(g, count) + self.rng.uniform(0, 30))
            resolved = fired + timedelta(minutes=self.rng.randint(2, 90)) if g % 10 < 7 else None
            plans.append((g, name, severity, namespace, size, fired, resolved))
        posts = [
            _message(
                "alerts",
                "C0INC",
                "post",
                _blocks(f"[FIRING:{size}] {name}", [f"{name} on pod-{n}" for n in range(min(size, 10))]),
                fired,
                None,
                g,
            )
            for g, name, _, _, size, fired, _ in plans
        ]
        message_ids = add(self.connection, posts, OutboxMessage)
        groups = []
        for (g, name, severity, namespace, _size, fired, resolved), message_id in zip(
            plans, message_ids, strict=True
        ):
            labels = {"alertname": name}
            common = labels | {"severity": severity, "namespace": namespace, "cluster": "prod-seoul"}
            groups.append(
                {
                    "source": "alertmanager",
                    "group_key": f'{{}}/{{severity="{severity}"}}:{{alertname="{name}"}}:{day}:{g}',
                    "receiver": "iris",
                    "status": "resolved" if resolved else "firing",
                    "group_labels": json.dumps(labels, sort_keys=True, separators=(",", ":")),
                    "common_labels": json.dumps(common, sort_keys=True, separators=(",", ":")),
                    "external_url": "http://alertmanager.example.org:9093",
                    "channel": "C0INC",
                    "mention": None,
                    "message_id": message_id,
                    "dirty": False,
                    "version": 3,
                    "truncated": 0,
                    "first_seen": fired,
                    "updated_at": resolved or fired,
                    "acked_by": "UONCALL" if g % 4 == 0 else None,
                    "acked_at": fired + timedelta(minutes=1) if g % 4 == 0 else None,
                    "silence_id": None,
                    "silenced_by": None,
                    "silenced_until": None,
                }
            )
        group_ids = add(self.connection, groups, AlertGroup)
        alerts, events, followups = [], [], []
        for (g, name, _, namespace, size, fired, resolved), group_id, message_id in zip(
            plans, group_ids, message_ids, strict=True
        ):
            for n in range(size):
                fingerprint = f"{group_id:08x}{n:08x}"
                joined = fired + timedelta(seconds=n % 30)
                alerts.append(
                    {
                        "group_id": group_id,
                        "fingerprint": fingerprint,
                        "status": "resolved" if resolved else "firing",
                        "labels": json.dumps(
                            {"alertname": name, "namespace": namespace, "pod": f"{namespace}-{n}"},
                            sort_keys=True,
                        ),
                        "annotations": json.dumps({"summary": f"{name} on {namespace}-{n}"}),
                        "starts_at": joined,
                        "ends_at": resolved,
                        "generator_url": "http://prometheus.example.org:9090/graph",
                        "updated_at": resolved or joined,
                    }
                )
                kind = "fired" if n == 0 else "joined"
                events.append(self._event(group_id, fingerprint, kind, joined, name))
                if g % 20 == 5:  # it flapped: resolved and fired again within the day
                    events.append(
                        self._event(group_id, fingerprint, "refired", joined + timedelta(minutes=5), "")
                    )
                if resolved:
                    events.append(self._event(group_id, fingerprint, "resolved", resolved, ""))
            if resolved:
                edit = _blocks(f"[RESOLVED] {name}", [f"resolved after {size} alerts"])
                followups.append(_message("alerts", "C0INC", "update", edit, resolved, message_id, g))
                reply = {"channel": "C0INC", "text": f"Resolved: {name}"}
                followups.append(_message("alerts", "C0INC", "post", reply, resolved, message_id, g))
            if size > 50:
                listing = "\n".join(f"{name}\t{namespace}-{n}\tfiring" for n in range(size))
                upload = {"channel": "C0INC", "filename": f"alert-group-{group_id}.tsv", "content": listing}
                followups.append(_message("alerts", "C0INC", "upload", upload, fired, message_id, g))
        add(self.connection, alerts, Alert)
        add(self.connection, events, AlertEvent)
        add(self.connection, followups, OutboxMessage)
        return count

    @staticmethod
    def _event(
        group_id: int, fingerprint: str | None, kind: str, at: datetime, detail: str
    ) -> dict[str, Any]:
        return {
            "group_id": group_id,
            "fingerprint": fingerprint,
            "kind": kind,
            "detail": detail,
            "at": at,
            "notified": True,
        }

    def notes(self, day: date, count: int) -> int:
        """`count` notes that stand, and a few deleted ones that must not be counted."""
        rows = []
        for i in range(count + 10):
            kind = NOTE_KINDS[i % len(NOTE_KINDS)]
            texts = NOTE_TEXTS[kind]
            note = texts[i % len(texts)].format(n=i + 1)
            response = (
                ("Raised the gateway timeout to 30 s" if i % 2 else "게이트웨이 타임아웃을 30초로 늘림")
                if kind == "problem" and i % 3
                else None
            )
            written = moment(day, spread(i, count + 10, margin=60))
            deleted = i >= count
            rows.append(
                Note(
                    day=day,
                    kind=kind,
                    text=note,
                    response=response,
                    author=f"U{i % 7:07d}",
                    channel_id="C0OPS",
                    created_at=written,
                    deleted_at=written + timedelta(minutes=5) if deleted else None,
                    deleted_by="UADMIN" if deleted else None,
                )
            )
        add(self.connection, rows, Note)
        return count

    def alert_tests(self, day: date) -> int:
        """Six alert-test runs (two with failures, one skipping, one still running), with their groups."""
        outcomes = (
            ["pass"] * 8,
            ["pass"] * 6 + ["fail", "pass"],
            ["pass"] * 8,
            ["pass"] * 5 + ["skip", "fail", "pass"],
            ["pass"] * 8,
            ["pass"] * 3,
        )
        runs, groups = [], []
        for n, outcome in enumerate(outcomes):
            started = moment(day, 3600 * (8 + 2 * n))
            run_id = f"{day:%m%d}{n:04x}"
            results = [
                {
                    "key": key,
                    "outcome": result,
                    "seconds": 1.4,
                    "detail": "not shown in Slack within {seconds} s" if result == "fail" else "",
                    "values": {"seconds": 30} if result == "fail" else {},
                }
                for key, result in zip(CASE_NAMES, outcome, strict=False)
            ]
            finished = len(outcome) == len(CASE_NAMES)
            runs.append(
                AlertTestRun(
                    run_id=run_id,
                    started_by="UONCALL",
                    via="alertmanager" if n % 2 else "webhook",
                    started_at=started,
                    ended_at=started + timedelta(minutes=2) if finished else None,
                    total=len(CASE_NAMES),
                    passed=outcome.count("pass"),
                    skipped=outcome.count("skip"),
                    results=json.dumps(results),
                )
            )
            for case in range(len(outcome)):  # the test's own groups, which the report leaves out
                labels = {"alertname": f"IrisAlertTest{case}", "iris_alert_test": run_id}
                groups.append(
                    AlertGroup(
                        source="alertmanager",
                        group_key=f"{{}}:iris-test:{run_id}:{case}",
                        group_labels=json.dumps({"alertname": labels["alertname"]}),
                        common_labels=json.dumps(labels),
                        channel="C0TEST",
                        status="resolved",
                        first_seen=started,
                        updated_at=started,
                    )
                )
        add(self.connection, runs, AlertTestRun)
        group_ids = add(self.connection, groups, AlertGroup)
        events = [self._event(gid, f"{gid:016x}", "fired", moment(day, 3600 * 8), "") for gid in group_ids]
        add(self.connection, events, AlertEvent)
        return len(outcomes)

    def templates(self, day: date) -> int:
        """Three template versions seen for the first time that day: one new, two changed."""
        changes = {
            "from": "1.2",
            "from_items": 58,
            "added": [f"Confirm retry budget for service {n}" for n in range(7)],
            "removed": ["Call the vendor"],
            "reworded": [["Check dashboards", "Check the Grafana retry dashboard"]],
        }
        rows = [
            ChecklistTemplate(
                name=name,
                version=version,
                content_hash=f"{day}-{name}-{version}",
                item_count=items,
                source="# template\n" + "- [ ] step\n" * items,
                first_seen_at=moment(day, 3600 * (9 + n)),
                changes=json.dumps(change) if change else None,
            )
            for n, (name, version, items, change) in enumerate(
                (
                    ("automation-patch", "1.3", 64, changes),
                    ("db-failover", "1.0", 40, None),
                    ("release-gate", "2.1", 25, changes | {"from": "2.0", "from_items": 19}),
                )
            )
        ]
        add(self.connection, rows, ChecklistTemplate)
        return len(rows)

    def checklists(self, day: date) -> int:
        """Eight checklists touched that day (started, completed, or both), 60 items each."""
        template_id = add(
            self.connection,
            [
                ChecklistTemplate(
                    name="automation-patch",
                    version="1.2",
                    content_hash=f"{day}-base",
                    item_count=60,
                    source="# automation-patch\n",
                    first_seen_at=moment(day - timedelta(days=30), 3600),
                )
            ],
            ChecklistTemplate,
        )[0]
        plans = []  # started, completed, approved
        for n in range(8):
            if n < 6:
                started = moment(day, 3600 * (9 + n))
                completed = started + timedelta(hours=3) if n in (1, 4) else None
            else:  # started days earlier, completed today
                started = moment(day - timedelta(days=3), 3600 * (10 + n))
                completed = moment(day, 3600 * (15 + n))
            plans.append((n, started, completed))
        posts = [
            _message(
                "checklist",
                "C0REL",
                "post",
                _blocks(f"Checklist automation-patch v1.2 #{n}", ["60 items"]),
                started,
                None,
                n,
            )
            for n, started, _ in plans
        ]
        message_ids = add(self.connection, posts, OutboxMessage)
        rows = [
            {
                "template_id": template_id,
                "name": "automation-patch",
                "version": "1.2",
                "title": "Automation patch",
                "release": f"2024-12-{17 + n % 3}",
                "channel_id": "C0REL",
                "message_id": message_id,
                "status": "complete" if completed else "open",
                "page": 0,
                "started_by": "URM",
                "started_at": started,
                "completed_at": completed,
                "approved_by": "UAPPROVER" if completed else None,
                "events": 0,
                "head_hash": "",
            }
            for (n, started, completed), message_id in zip(plans, message_ids, strict=True)
        ]
        checklist_ids = add(self.connection, rows, Checklist)
        items, signoffs, exports = [], [], []
        for (n, started, completed), checklist_id, message_id in zip(
            plans, checklist_ids, message_ids, strict=True
        ):
            done = 60 if completed else 10 * n
            items += [
                {
                    "checklist_id": checklist_id,
                    "position": p,
                    "section": f"Part {(p - 1) // 12 + 1}",
                    "text": f"Step {p}",
                    "owner": None,
                    "approval": p == 60,
                }
                for p in range(1, 61)
            ]
            signoffs += [
                {
                    "checklist_id": checklist_id,
                    "position": p,
                    "kind": "sign",
                    "user_id": "UDEV",
                    "at": started + timedelta(minutes=p),
                    "reason": None,
                    "undone_at": None,
                    "undone_by": None,
                }
                for p in range(1, done + 1)
            ]
            if completed:
                name = f"checklist-{checklist_id}-automation-patch-v1.2.md"
                upload = {"channel": "C0REL", "filename": name, "content": "# record\n" * 200}
                exports.append(_message("checklist", "C0REL", "upload", upload, completed, message_id, n))
        add(self.connection, items, ChecklistItem)
        add(self.connection, signoffs, ChecklistSignoff)
        add(self.connection, exports, OutboxMessage)
        return len(plans)

    def briefings(self, day: date) -> int:
        """Ten briefings and two milestones held that day, and a few planned for the week after."""
        held = [moment(day, 3600 * (8 + n)) for n in range(12)]  # hourly from 08:00
        planned = [moment(day + timedelta(days=n), 36000) for n in range(2, 7)]  # 10:00 on later days
        rows = []
        for n, starts in enumerate(held + planned):
            attendees = [f"UATT{k}" for k in range(6 + n % 5)]
            rows.append(
                Briefing(
                    title=f"Cross-team briefing {n}" if n % 6 else f"Release {n} cut-over",
                    kind="milestone" if n % 6 == 0 and n < len(held) else "briefing",
                    channel_id="C0OPS",
                    agenda="1. retries\n2. alerts",
                    attendees=json.dumps(attendees),
                    leads="[1800]",
                    zone=ZONE,
                    starts_at=starts,
                    status="active",
                    next_fire_at=None if n < len(held) else starts - timedelta(minutes=30),
                    created_by="UKIM",
                    created_at=starts - timedelta(days=2),
                )
            )
        briefing_ids = add(self.connection, rows, Briefing)
        firings, answers = [], []
        for n, (briefing_id, row, starts) in enumerate(zip(briefing_ids, rows, held, strict=False)):
            for lead in (1800, 0):
                firings.append(
                    BriefingFiring(
                        briefing_id=briefing_id,
                        fire_at=starts - timedelta(seconds=lead),
                        occurrence_at=starts,
                        lead=lead,
                        status="posted",
                        claimed_by="iris-1",
                        claimed_at=starts - timedelta(seconds=lead),
                        done_at=starts + timedelta(hours=1) if lead == 0 and n % 2 else None,
                        done_by="UKIM" if lead == 0 and n % 2 else None,
                    )
                )
            for k, user in enumerate(json.loads(row.attendees)):
                answers.append(
                    BriefingAnswer(
                        briefing_id=briefing_id,
                        occurrence_at=starts,
                        user_id=user,
                        answer="absent" if k % 4 == 3 else "attending",
                        answered_at=starts - timedelta(minutes=20),
                    )
                )
        add(self.connection, firings, BriefingFiring)
        add(self.connection, answers, BriefingAnswer)
        return len(held)


def seed(engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    """The measured day, and `--around` days before and after it with as much again."""
    rng = random.Random(20241212)
    kinds = shapes()
    days = [DAY + timedelta(days=d) for d in range(-args.around, args.around + 1)]
    started = time.perf_counter()
    counts: dict[str, Any] = {}
    for day in days:
        with engine.begin() as connection:
            counted = Seeder(connection, kinds, rng).day(day, args)
        if day == DAY:
            counts = counted
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    rows = {}
    with read_scope(engine) as session:
        for model in (Rehearsal, RehearsalAttempt, AlertGroup, Alert, AlertEvent, Note, OutboxMessage):
            table = model.__table__  # type: ignore[union-attr]
            rows[table.name] = int(session.exec(select(func.count()).select_from(table)).one())
    return {
        "day": counts,
        "days_stored": len(days),
        "rows_stored": rows,
        "seed_s": round(time.perf_counter() - started, 1),
    }


# --- measuring ------------------------------------------------------------------------------------------


def build(service: ReportService, lang: str) -> tuple[Written, tuple[str, list[dict[str, Any]]]]:
    """What a person waits for: the report written (database, compose, Markdown, HTML) and its Slack
    message, as `/iris report post` and the daily post build them (commands/reports/publisher.py). The
    preview (`/iris report`) composes the same report and adds one block of buttons; no files."""
    written = service.written(DAY, lang, BYLINE)
    return written, render_report(translator(lang), written.report)


def staged(engine: Engine, lang: str) -> dict[str, float]:
    """The same work as `build`, step by step as ReportService does it, each step timed (seconds)."""
    t = translator(lang)
    started = time.perf_counter()
    with read_scope(engine) as session:
        facts = collect(session, DAY, ZONE)
    collected = time.perf_counter()
    report = compose(facts, t, ZONE, SETTINGS, BYLINE, _name_of)
    composed = time.perf_counter()
    render_markdown(report)
    render_html(report)
    written = time.perf_counter()
    render_report(t, report)
    done = time.perf_counter()
    return {
        "collect": collected - started,
        "compose": composed - collected,
        "markdown_html": written - composed,
        "slack": done - written,
    }


def _name_of(user: str) -> str:
    return f"name-of-{user}"


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(percentile(ordered, 50) * 1000, 1),
        "p99": round(percentile(ordered, 99) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
        "min": round(ordered[0] * 1000, 1),
    }


def sizes(written: Written, rendered: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    text_, blocks = rendered
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    header = next(b["text"]["text"] for b in blocks if b["type"] == "header")
    context = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return {
        "markdown_chars": len(written.markdown),
        "html_chars": len(written.html),
        # The preview's Markdown and HTML buttons show the text as code, up to this much (views.py).
        "markdown_fits_code_preview": len(written.markdown) <= CODE_CHARS * MAX_CODE_BLOCKS,
        "html_fits_code_preview": len(written.html) <= CODE_CHARS * MAX_CODE_BLOCKS,
        "slack_blocks": len(blocks),
        "slack_longest_section_chars": max(len(s) for s in sections),
        "slack_longest_context_chars": max(len(c) for c in context),
        "slack_header_chars": len(header),
        "slack_text_chars": len(text_),
        "slack_blocks_json_bytes": len(json.dumps(blocks, ensure_ascii=False).encode()),
        "work_items": len(written.report.sections[1].items),
        "problem_items": len(written.report.sections[3].items),
    }


def within_slack(size: dict[str, Any]) -> bool:
    return (
        size["slack_blocks"] <= SLACK_MAX_BLOCKS
        and size["slack_longest_section_chars"] <= SLACK_MAX_SECTION_TEXT
        and size["slack_longest_context_chars"] <= SLACK_MAX_SECTION_TEXT
        and size["slack_header_chars"] <= SLACK_MAX_HEADER_TEXT
        and size["slack_text_chars"] <= SLACK_MAX_TEXT
    )


def measure(engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    """`args.builds` timed builds, the languages alternating, each followed by a staged one for the split.

    The first build on this database is reported apart (new connections, cold caches); on PostgreSQL
    the process has already built on SQLite, so translation catalogs and templates are warm.
    """
    service = ReportService(engine, ZONE, SETTINGS, lambda: moment(DAY, 19 * 3600), name_of=_name_of)
    # As `iris serve` does once started (bot/runtime.py): what lives for the whole process, here the
    # imports and the engine, is frozen out of the collector's sight; the builds' garbage is collected.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    first = build(service, LANGS[0])
    first_ms = (time.perf_counter() - started) * 1000
    build(service, LANGS[1])  # the other language's catalog and formats, also unmeasured
    totals: dict[str, list[float]] = {lang: [] for lang in LANGS}
    stages: dict[str, list[float]] = {}
    for n in range(args.builds):
        lang = LANGS[n % len(LANGS)]
        began = time.perf_counter()
        build(service, lang)
        totals[lang].append(time.perf_counter() - began)
        for stage, seconds in staged(engine, lang).items():
            stages.setdefault(stage, []).append(seconds)
    every = [s for lang in LANGS for s in totals[lang]]
    written = {lang: build(service, lang) for lang in LANGS}
    figures = written["en"][0].report.figures
    return {
        "builds": len(every),
        "first_build_ms": round(first_ms, 1),
        "build_ms": _ms(every),
        "build_ms_by_lang": {lang: _ms(values) for lang, values in totals.items() if values},
        "stages_ms": {stage: _ms(values) for stage, values in stages.items()},
        "sizes": {lang: sizes(*pair) for lang, pair in written.items()},
        "figures": {k: v for k, v in figures.items() if k != "checklist_items"},
        "same_text_as_first_build": first[0].markdown == written["en"][0].markdown,
    }


def profile(engine: Engine, builds: int) -> None:
    """Where a build's time goes: cProfile over `builds` builds, the top functions by cumulative time."""
    service = ReportService(engine, ZONE, SETTINGS, lambda: moment(DAY, 19 * 3600), name_of=_name_of)
    build(service, "en")
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(builds):
        build(service, LANGS[n % len(LANGS)])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue())


def checks(result: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, bool]]:
    figures, by_lang = result["figures"], result["sizes"]
    return [
        (f"report build p99 < {P99_TARGET_MS:.0f} ms", result["build_ms"]["p99"] < P99_TARGET_MS),
        (
            "the report counts exactly the seeded day "
            f"({args.rehearsals} rehearsals, {args.alert_groups} alert groups, {args.notes} notes)",
            (figures["rehearsals"], figures["alert_groups_fired"], figures["notes"])
            == (args.rehearsals, args.alert_groups, args.notes),
        ),
        ("the Slack message is within Slack's limits", all(within_slack(s) for s in by_lang.values())),
    ]


def run_database(name: str, url: str, args: argparse.Namespace, *, empty_first: bool) -> dict[str, Any]:
    engine = open_engine(url)
    try:
        upgrade(engine, url)
        if empty_first:
            empty(engine)
        print(f"{name}: filling {2 * args.around + 1} days …", flush=True)
        stored = seed(engine, args)
        print(f"{name}: filled in {stored['seed_s']} s: {stored['rows_stored']}", flush=True)
        result = {"database": name} | stored | measure(engine, args)
        if args.profile:
            profile(engine, args.profile)
    finally:
        engine.dispose()
    result["checks"] = [{"check": label, "ok": ok} for label, ok in checks(result, args)]
    return result


def empty(engine: Engine) -> None:
    """Every IRIS table of a database given with --database-url, so the day holds only what is seeded."""
    names = [str(table.__tablename__) for table in registry.tables()]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                connection.execute(text(f"DELETE FROM {name}"))


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of `admin_url`, dropped afterwards."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
        yield make_url(admin_url).set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'))
        except OperationalError:
            pass
        admin.dispose()


def databases(args: argparse.Namespace, tmp: str) -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    if args.database_url:
        name = make_url(args.database_url).get_backend_name()
        yield name, lambda: run_database(name, args.database_url, args, empty_first=True)
        return
    url = f"sqlite:///{tmp}/report.db"
    yield "sqlite", lambda: run_database("sqlite", url, args, empty_first=False)
    if args.sqlite_only:
        return

    def on_postgres() -> dict[str, Any]:
        try:
            with postgres_database(args.postgres_admin_url) as pg_url:
                return run_database("postgresql", pg_url, args, empty_first=False)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            print(f"postgresql: skipped, not reachable at {args.postgres_admin_url}: {reason}", flush=True)
            return {"database": "postgresql", "skipped": reason}

    yield "postgresql", on_postgres


def report(results: list[dict[str, Any]]) -> bool:
    measured = [r for r in results if "skipped" not in r]
    print()
    print(
        "| database | builds | first ms | p50 ms | p99 ms | max ms | collect p50 / p99 | compose p50 / p99 "
        "| Markdown+HTML p50 / p99 | Slack p50 / p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in measured:
        b, s = r["build_ms"], r["stages_ms"]
        cells = " | ".join(
            f"{s[k]['p50']} / {s[k]['p99']}" for k in ("collect", "compose", "markdown_html", "slack")
        )
        print(
            f"| {r['database']} | {r['builds']} | {r['first_build_ms']} | {b['p50']} | {b['p99']} "
            f"| {b['max']} | {cells} |"
        )
    print()
    print("| database | lang | Markdown chars | HTML chars | Slack blocks | longest section | text chars |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in measured:
        for lang, size in r["sizes"].items():
            print(
                f"| {r['database']} | {lang} | {size['markdown_chars']:,} | {size['html_chars']:,} "
                f"| {size['slack_blocks']} / {SLACK_MAX_BLOCKS} "
                f"| {size['slack_longest_section_chars']} / {SLACK_MAX_SECTION_TEXT} "
                f"| {size['slack_text_chars']} / {SLACK_MAX_TEXT:,} |"
            )
    print()
    ok = True
    for r in results:
        if "skipped" in r:
            print(f"SKIPPED {r['database']}: {r['skipped']}")
            continue
        for check in r["checks"]:
            ok = ok and check["ok"]
            print(f"{r['database']}: {check['check']}: {'PASS' if check['ok'] else 'FAIL'}")
    return ok


def run(args: argparse.Namespace) -> int:
    results = []
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
        for _, run_one in databases(args, tmp):
            results.append(run_one())
    ok = report(results)
    body = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "day": DAY.isoformat(),
        "zone": ZONE,
        "builds_per_database": args.builds,
        "results": results,
        "machine": machine(PACKAGES),
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"results written to {RESULTS_FILE}")
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--builds", type=int, default=DEFAULT_BUILDS, help=f"measured builds (default {DEFAULT_BUILDS})"
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BUILDS} builds, a smoke run")
    parser.add_argument("--rehearsals", type=int, default=200, help="rehearsals on the day (default 200)")
    parser.add_argument("--alert-groups", type=int, default=2000, help="alert groups fired (default 2,000)")
    parser.add_argument("--notes", type=int, default=500, help="notes standing on the day (default 500)")
    parser.add_argument(
        "--around", type=int, default=1, help="days before and after with as much again (default 1)"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--postgres-admin-url",
        default=POSTGRES_ADMIN,
        help=f"where to create (and drop) the database {POSTGRES_DATABASE} (default {POSTGRES_ADMIN})",
    )
    parser.add_argument(
        "--database-url",
        help="measure this one database only; every IRIS table in it is emptied first",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also profile N builds (cProfile) and print"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.builds = QUICK_BUILDS
    if args.builds < 2 or args.rehearsals < 1 or args.alert_groups < 1 or args.notes < 0 or args.around < 0:
        parser.error("--builds must be at least 2, the day's counts at least 1 and --around at least 0")
    return args


if __name__ == "__main__":
    sys.exit(run(parse_args()))
