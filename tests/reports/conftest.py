"""A day's records written straight into the tables, as the features would have written them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.reports.compose import Byline
from bot.reports.model import Report
from bot.reports.service import ReportService
from bot.reports.settings import ReportsConfig
from commands.alerts.alert_test import CASE_NAMES
from storage.alerts import Alert, AlertEvent, AlertGroup, AlertTestRun
from storage.briefings import Briefing, BriefingAnswer, BriefingFiring
from storage.checklists import Checklist, ChecklistItem, ChecklistSignoff, ChecklistTemplate
from storage.db import session_scope
from storage.outbox import OutboxMessage
from storage.rehearsals import Rehearsal, RehearsalAttempt
from storage.reports import Note

ZONE = "Asia/Seoul"
DAY = date(2024, 12, 12)
MORNING = datetime(2024, 12, 12, 0, 30, tzinfo=UTC)  # 09:30 in Seoul


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A moment on the team's clock (Seoul, UTC+9), in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


@dataclass
class Recorder:
    """Writes what IRIS would have recorded; each method is one thing that happened."""

    engine: Engine
    counter: dict[str, int] = field(default_factory=dict)

    def _next(self, kind: str) -> int:
        self.counter[kind] = self.counter.get(kind, 0) + 1
        return self.counter[kind]

    def add(self, *rows: Any) -> None:
        with session_scope(self.engine) as session:
            for row in rows:
                session.add(row)
                session.flush()

    def rehearsal(
        self,
        started: datetime,
        *,
        verdict: str | None = "pass",
        runs: int = 5,
        recovered: int = 5,
        mean: float | None = 185.2,
        status: str = "completed",
        reasons: list[str] | None = None,
        evidence: list[dict[str, Any]] | None = None,
        scenario: str = "automation-v1.2",
        message_id: int | None = None,
    ) -> str:
        rid = f"r-{self._next('rehearsal'):08x}"
        summary = {
            "environment": "qa",
            "runs": [{"run": n} for n in range(1, runs + 1)],
            "recovered": recovered,
            "recovery_mean": mean,
            "backoff_ok": 2 * runs,
            "backoff_total": 2 * runs,
            "reasons": reasons or [],
            "evidence": {"checks": evidence or []},
        }
        self.add(
            Rehearsal(
                id=rid,
                scenario=scenario,
                status=status,
                verdict=verdict,
                runs_planned=runs,
                runs_done=runs,
                started_by="URM",
                channel_id="C0OPS",
                started_at=started,
                ended_at=started + timedelta(minutes=16),
                summary=json.dumps(summary),
                message_id=message_id,
            )
        )
        attempts = [
            RehearsalAttempt(
                rehearsal_id=rid,
                run=run,
                fault_id="gw-timeout",
                attempt=attempt,
                method="POST",
                path="/v1/jobs",
                status=504,
                injected=True,
                received_at=0.0,
                responded_at=0.0,
            )
            for run in range(1, runs + 1)
            for attempt in (1, 2)
        ]
        self.add(*attempts)
        return rid

    def alert_test(
        self,
        started: datetime,
        outcomes: list[str],
        details: dict[int, str] | None = None,
        *,
        running: bool = False,
    ) -> None:
        results = [
            {
                "key": key,
                "outcome": outcome,
                "seconds": 1.0,
                "detail": (details or {}).get(i, ""),
                "values": {},
            }
            for i, (key, outcome) in enumerate(zip(CASE_NAMES, outcomes, strict=False))
        ]
        self.add(
            AlertTestRun(
                run_id=f"{self._next('test'):08x}",
                started_by="UONCALL",
                via="alertmanager",
                started_at=started,
                ended_at=None if running else started + timedelta(minutes=2),
                total=len(results),
                passed=outcomes.count("pass"),
                skipped=outcomes.count("skip"),
                results=json.dumps(results),
            )
        )

    def message(self, channel: str, ts: str | None) -> int:
        """A message IRIS posted (delivered when it has a ts): the thread files go to."""
        row = OutboxMessage(
            lane=channel,
            kind="post",
            payload=json.dumps({"channel": channel, "text": "x"}),
            status="sent" if ts else "pending",
            slack_channel=channel if ts else None,
            slack_ts=ts,
        )
        self.add(row)
        assert row.id is not None
        return row.id

    def upload(
        self, thread: int, filename: str, queued: datetime, source: str, content: bytes = b"{}"
    ) -> None:
        payload = {
            "channel": "C0OPS",
            "filename": filename,
            "content_base64": base64.b64encode(content).decode(),
        }
        self.add(
            OutboxMessage(
                lane="C0OPS",
                kind="upload",
                payload=json.dumps(payload),
                ref_id=thread,
                source=source,
                created_at=queued,
            )
        )

    def template(self, seen: datetime, version: str, items: int, changes: dict[str, Any] | None) -> None:
        self.add(
            ChecklistTemplate(
                name="automation-patch",
                version=version,
                content_hash=f"{version}-{items}",
                item_count=items,
                source="",
                first_seen_at=seen,
                changes=json.dumps(changes) if changes else None,
            )
        )

    def checklist(
        self, started: datetime, *, done: int, total: int = 15, approved_by: str | None = None
    ) -> None:
        template = ChecklistTemplate(
            name="automation-patch",
            version="1.2",
            content_hash=f"c{self._next('c')}",
            item_count=total,
            source="",
            first_seen_at=started - timedelta(days=30),
        )
        self.add(template)
        checklist = Checklist(
            template_id=template.id,
            name="automation-patch",
            version="1.2",
            title="Automation patch",
            release="2024-12-17",
            channel_id="C0OPS",
            started_by="URM",
            started_at=started,
            status="complete" if approved_by else "open",
            approved_by=approved_by,
            completed_at=started + timedelta(hours=1) if approved_by else None,
        )
        self.add(checklist)
        assert checklist.id is not None
        self.add(
            *(
                ChecklistItem(checklist_id=checklist.id, position=n, section="A", text=f"Step {n}")
                for n in range(1, total + 1)
            )
        )
        self.add(
            *(
                ChecklistSignoff(
                    checklist_id=checklist.id, position=n, kind="sign", user_id="UDEV", at=started
                )
                for n in range(1, done + 1)
            )
        )

    def briefing(
        self,
        starts: datetime,
        title: str = "Cross-team briefing",
        *,
        kind: str = "briefing",
        attendees: tuple[str, ...] = (),
        answers: dict[str, str] | None = None,
        done: bool = False,
        fired: bool = True,
    ) -> None:
        briefing = Briefing(
            title=title,
            kind=kind,
            channel_id="C0OPS",
            zone=ZONE,
            starts_at=starts,
            attendees=json.dumps(list(attendees)),
            created_by="UKIM",
        )
        self.add(briefing)
        assert briefing.id is not None
        if not fired:
            return
        self.add(
            BriefingFiring(
                briefing_id=briefing.id,
                fire_at=starts,
                occurrence_at=starts,
                lead=0,
                status="posted",
                done_at=starts + timedelta(hours=1) if done else None,
            )
        )
        self.add(
            *(
                BriefingAnswer(briefing_id=briefing.id, occurrence_at=starts, user_id=user, answer=answer)
                for user, answer in (answers or {}).items()
            )
        )

    def incident(
        self,
        fired: datetime,
        name: str,
        *,
        alerts: int = 1,
        resolved: datetime | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        group_labels = json.dumps(labels or {"alertname": name})
        group = AlertGroup(
            source="alertmanager",
            group_key=f"{{}}:{name}:{self._next('g')}",
            channel="C0INC",
            group_labels=group_labels,
            status="resolved" if resolved else "firing",
            first_seen=fired,
        )
        self.add(group)
        assert group.id is not None
        for n in range(alerts):
            self.add(
                Alert(
                    group_id=group.id,
                    fingerprint=f"{group.id}-{n}",
                    status="firing",
                    labels="{}",
                    annotations="{}",
                )
            )
            self.add(AlertEvent(group_id=group.id, fingerprint=f"{group.id}-{n}", kind="fired", at=fired))
            if resolved is not None:
                self.add(
                    AlertEvent(group_id=group.id, fingerprint=f"{group.id}-{n}", kind="resolved", at=resolved)
                )

    def note(self, kind: str, text: str, response: str | None = None, day: date = DAY) -> None:
        self.add(Note(day=day, kind=kind, text=text, response=response, author="UKIM"))


@pytest.fixture
def recorder(engine: Engine) -> Recorder:
    return Recorder(engine)


SETTINGS = ReportsConfig(
    author="Kang Cheol-su",
    reviewer="Kang Hye-jin",
    stage="Step 4: operational stability",
    keywords=["automation rehearsal", "retry QA"],
)


def service(engine: Engine, now: datetime | None = None, settings: ReportsConfig = SETTINGS) -> ReportService:
    moment = now or at(19)
    return ReportService(engine, ZONE, settings, lambda: moment, name_of=lambda user: f"name-of-{user}")


def report_of(engine: Engine, lang: str = "en", day: date = DAY) -> Report:
    return service(engine).report(day, lang, Byline())
