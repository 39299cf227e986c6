"""What IRIS recorded on one day, read from every feature's tables: the facts the report is written from.

Only reads. A day is midnight to midnight in the team's time zone; anything that began that day
belongs to it (a rehearsal that ran across midnight is the day it started).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import alerts as alerts_repo
from storage import briefings as briefings_repo
from storage import checklists as checklists_repo
from storage import outbox as outbox_repo
from storage import rehearsals as rehearsals_repo
from storage import reports as notes_repo
from storage.clock import as_utc
from storage.reports import Note

NEXT_DAYS = 7  # how far ahead the next steps look


@dataclass(frozen=True)
class RehearsalFact:
    id: str
    scenario: str
    environment: str
    status: str  # completed | failed | aborted | interrupted | running
    verdict: str | None
    runs_planned: int
    summary: dict[str, Any]  # the result without its journal (figures, runs, evidence, notes)
    injected: dict[str, int]  # fault id → how often it was injected
    link: str | None


@dataclass(frozen=True)
class AlertTestFact:
    run_id: str
    via: str
    total: int
    passed: int
    skipped: int
    results: list[dict[str, Any]]  # key, outcome, seconds, detail, values
    finished: bool


@dataclass(frozen=True)
class TemplateFact:
    name: str
    version: str
    items: int
    changes: dict[str, Any] | None  # from, from_items, added, removed, reworded; None for a first version


@dataclass(frozen=True)
class ChecklistFact:
    id: int
    label: str  # "automation-patch v1.2"
    release: str
    started_today: bool
    completed: bool
    approved_by: str | None
    done: int
    total: int


@dataclass(frozen=True)
class BriefingFact:
    title: str
    kind: str  # briefing | milestone
    at: datetime
    attending: list[str]
    absent: list[str]
    recording_sent: bool


@dataclass(frozen=True)
class IncidentFact:
    title: str
    alerts: int
    fired_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class StepFact:
    at: datetime
    title: str
    kind: str  # briefing | milestone


@dataclass(frozen=True)
class ReferenceFact:
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Day:
    day: date
    start: datetime  # UTC
    end: datetime
    rehearsals: list[RehearsalFact] = field(default_factory=list)
    alert_tests: list[AlertTestFact] = field(default_factory=list)
    templates: list[TemplateFact] = field(default_factory=list)
    checklists: list[ChecklistFact] = field(default_factory=list)
    briefings: list[BriefingFact] = field(default_factory=list)
    incidents: list[IncidentFact] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    steps: list[StepFact] = field(default_factory=list)
    references: list[ReferenceFact] = field(default_factory=list)

    def notes_of(self, kind: str) -> list[Note]:
        return [note for note in self.notes if note.kind == kind]

    @property
    def quiet(self) -> bool:
        """Nothing at all was recorded that day."""
        return not any(
            (
                self.rehearsals,
                self.alert_tests,
                self.templates,
                self.checklists,
                self.briefings,
                self.incidents,
                self.notes,
                self.references,
            )
        )


def window(day: date, zone: str) -> tuple[datetime, datetime]:
    """Midnight to midnight on the team's clock, in UTC."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    return as_utc(start), as_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))


def collect(session: Session, day: date, zone: str) -> Day:
    start, end = window(day, zone)
    rows = rehearsals_repo.started_between(session, start, end)
    threads = [row.message_id for row in rows if row.message_id is not None]
    uploads = outbox_repo.upload_names_in_threads(session, threads, "rehearsal")
    uploads += outbox_repo.upload_names_between(session, start, end, "checklist")
    links = _permalinks(session, [*threads, *(u.thread for u in uploads if u.thread is not None)])
    rehearsals = _rehearsals(session, rows, links)
    return Day(
        day=day,
        start=start,
        end=end,
        rehearsals=rehearsals,
        alert_tests=[_alert_test(run) for run in alerts_repo.test_runs_between(session, start, end)],
        templates=[
            _template(row) for row in checklists_repo.templates_first_seen_between(session, start, end)
        ],
        checklists=_checklists(session, start, end),
        briefings=_briefings(session, start, end),
        incidents=[_incident(found) for found in alerts_repo.groups_fired_between(session, start, end)],
        notes=notes_repo.notes_on(session, day),
        steps=[
            StepFact(as_utc(b.starts_at), b.title, b.kind)
            for b in briefings_repo.one_offs_between(session, end, end + timedelta(days=NEXT_DAYS))
            if b.starts_at is not None
        ],
        references=_references(uploads, links),
    )


def _rehearsals(
    session: Session, rows: list[rehearsals_repo.Rehearsal], links: dict[int, str]
) -> list[RehearsalFact]:
    injected = rehearsals_repo.injected_by_fault(session, [row.id for row in rows])
    facts = []
    for row in rows:
        summary = json.loads(row.summary or "{}")
        facts.append(
            RehearsalFact(
                row.id,
                row.scenario,
                str(summary.get("environment") or ""),
                row.status,
                row.verdict,
                row.runs_planned,
                summary,
                injected.get(row.id, {}),
                links.get(row.message_id) if row.message_id is not None else None,
            )
        )
    return facts


def _alert_test(run: alerts_repo.AlertTestRun) -> AlertTestFact:
    results = json.loads(run.results or "[]")
    return AlertTestFact(
        run.run_id, run.via, run.total, run.passed, run.skipped, results, run.ended_at is not None
    )


def _template(row: checklists_repo.ChecklistTemplate) -> TemplateFact:
    return TemplateFact(
        row.name, row.version, row.item_count, json.loads(row.changes) if row.changes else None
    )


def _checklists(session: Session, start: datetime, end: datetime) -> list[ChecklistFact]:
    rows = checklists_repo.touched_between(session, start, end)
    progress = checklists_repo.progress_of(session, [row.id for row in rows if row.id is not None])
    facts = []
    for row in rows:
        assert row.id is not None
        done, total = progress.get(row.id, (0, 0))
        started_today = start <= as_utc(row.started_at) < end
        facts.append(
            ChecklistFact(
                row.id,
                f"{row.name} v{row.version}",
                row.release,
                started_today,
                row.status == checklists_repo.COMPLETE,
                row.approved_by,
                done,
                total,
            )
        )
    return facts


def _briefings(session: Session, start: datetime, end: datetime) -> list[BriefingFact]:
    held = briefings_repo.starts_between(session, start, end)
    keys = sorted({(firing.briefing_id, as_utc(firing.occurrence_at)) for _, firing in held})
    answers = briefings_repo.answers_for(session, keys)
    facts = []
    for briefing, firing in held:
        given = answers.get((firing.briefing_id, as_utc(firing.occurrence_at)), {})
        invited = briefings_repo.attendees_of(briefing)
        attending = [user for user, answer in given.items() if answer == briefings_repo.ATTENDING]
        absent = [user for user in invited if given.get(user) != briefings_repo.ATTENDING]
        absent += [u for u, a in given.items() if a == briefings_repo.ABSENT and u not in invited]
        sent = firing.done_at is not None and bool(absent)
        facts.append(
            BriefingFact(briefing.title, briefing.kind, as_utc(firing.occurrence_at), attending, absent, sent)
        )
    return facts


def _incident(found: alerts_repo.FiredGroup) -> IncidentFact:
    group = found.group
    labels = {**json.loads(group.common_labels), **json.loads(group.group_labels)}
    title = (
        labels.get("alertname") or ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or group.group_key
    )
    return IncidentFact(title[:200], found.alerts, found.fired_at, found.resolved_at)


def _references(uploads: list[outbox_repo.UploadName], links: dict[int, str]) -> list[ReferenceFact]:
    """The journals of the day's rehearsals (even one uploaded after midnight) and its checklist exports."""
    return [
        ReferenceFact(upload.filename, links.get(upload.thread) if upload.thread is not None else None)
        for upload in uploads
        if upload.filename.endswith(("-journal.json", ".md"))
    ]


def _permalinks(session: Session, message_ids: list[int]) -> dict[int, str]:
    """The Slack address of each delivered message among these (the threads files are in), in one query."""
    links = {}
    for posted in outbox_repo.get_many(session, sorted(set(message_ids))):
        if posted.id is not None and posted.slack_ts and posted.slack_channel:
            ts = posted.slack_ts.replace(".", "")
            links[posted.id] = f"https://slack.com/archives/{posted.slack_channel}/p{ts}"
    return links
