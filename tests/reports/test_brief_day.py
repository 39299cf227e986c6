"""The brief's day, replayed: Thursday 12 December 2024 done with IRIS's real commands through `iris serve`
and the Slack stand-in, on a clock that starts that day; then `iris report --date 2024-12-12` in Korean
and English matches the golden files in tests/reports/golden/, and its figures match the database.

The alert test runs through IRIS's own intake: a real Alertmanager refuses silences in 2024 (their
end lies in its past), so the silence case is skipped, as it is wherever no Alertmanager is set; the
other seven pass, the routing one through the `team: automation` route.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import nh3
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.reports.render import HTML_TAGS
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.model import StoredFile, StoredMessage
from bot.slack_standin.server import SlackStandin
from storage.alerts import AlertTestRun
from storage.checklists import ChecklistTemplate
from storage.db import open_engine, read_scope
from storage.rehearsals import Rehearsal, RehearsalRun
from storage.reports import ReportPost
from tests.e2e.conftest import SIGNING_SECRET, IrisServer, eventually, iris_command, server_env

# One worker lives the day once for both tests (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("brief-day")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).with_name("golden")
KANG, OPS_TEAM = "UKANGCS", ["UPARK01", "ULEE001", "UCHOI01", "UJUNG01", "UYOON01"]
ABROAD = "UHAN001"  # travelling: answers "can't attend" and gets the recording
IRIS_YML = f"""\
channels: {{default: C0OPS, reports: C0REP}}
roles: {{admins: [{KANG}]}}
folders: {{scenarios: scenarios, checklists: checklists}}
routes:
  - match: {{team: automation}}
    channel: C0AUTO
reports:
  daily_at: "16:00"
{{byline}}
"""
BYLINE = {
    "ko": "  author: 강철수\n  reviewer: 강혜진\n  stage: 4단계 — 운영 안정성 개선\n"
    "  keywords: [자동화 리허설, 재시도 로직 QA, 모니터링 대시보드, 릴리즈 체크리스트]\n",
    "en": "  author: Kang Cheol-su\n  reviewer: Kang Hye-jin\n"
    "  stage: Step 4 — operational stability improvements\n"
    "  keywords: [automation rehearsal, retry-logic QA, monitoring dashboards, release checklist]\n",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The example QA jobs API (examples/automation/upstream.py), on a free port."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "automation" / "upstream.py"), "--port", str(port)]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: _answers(url), timeout=10), "the example upstream did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=0.5):
            return True
    except OSError:
        return False


def _workdir(tmp_path: Path, upstream: str) -> None:
    """The example scenario pointed at this upstream, and only v1.1 of the checklist for now."""
    (tmp_path / "scenarios").mkdir()
    scenario = (EXAMPLES / "scenarios" / "automation-v1.2.yml").read_text()
    scenario = scenario.replace("http://127.0.0.1:8080", upstream)
    scenario = scenario.replace("../automation/automation.py", str(EXAMPLES / "automation" / "automation.py"))
    (tmp_path / "scenarios" / "automation-v1.2.yml").write_text(scenario)
    (tmp_path / "checklists").mkdir()
    shutil.copy(EXAMPLES / "checklists" / "automation-patch-v1.1.md", tmp_path / "checklists")
    (tmp_path / "iris.yml").write_text(IRIS_YML.replace("{byline}", BYLINE["en"]))


class Clock:
    """The server's clock, as Slack's side sees it: where it was moved to, and the seconds since."""

    def __init__(self, path: Path, start: str) -> None:
        self.path = path
        self._at, self._since = datetime.fromisoformat(start).timestamp(), time.monotonic()

    def __call__(self) -> float:
        return self._at + time.monotonic() - self._since

    def move_to(self, moment: str) -> None:
        self.path.write_text(moment)
        moved = Path(f"{self.path}.moved")
        assert eventually(lambda: moved.exists() and moved.read_text() == moment)
        self._at, self._since = datetime.fromisoformat(moment).timestamp(), time.monotonic()

    def restart_at(self, moment: str) -> None:
        """For a server about to start: it reads this file at once, and nobody is there to answer."""
        self.path.write_text(moment)
        self._at, self._since = datetime.fromisoformat(moment).timestamp(), time.monotonic()


class Day:
    """The server on the brief's clock, and what a person does in Slack."""

    def __init__(self, server: IrisServer, slack: SlackDriver, standin: SlackStandin, clock: Clock) -> None:
        self.server, self.slack, self.standin, self.clock = server, slack, standin, clock

    def say(self, text: str, user: str = KANG) -> str:
        return self.slack.answer_text(self.slack.command(text, user_id=user, channel_id="C0OPS"))

    def move_to(self, moment: str) -> None:
        self.clock.move_to(moment)

    def top(self, channel: str, needle: str) -> list[StoredMessage]:
        return [m for m in self.standin.messages(channel) if m.thread_ts is None and needle in m.text]


def _value(message: StoredMessage) -> str:
    actions = next(b for b in message.blocks or [] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def _live_the_day(day: Day, tmp_path: Path) -> None:
    # Wednesday evening: the checklist template as it was, v1.1 (12 items).
    assert "*automation-patch* v1.1 — 12 items" in day.say("checklist templates")
    day.move_to("2024-12-12T09:00:00+09:00")
    assert day.say("note list") == "No notes for 2024-12-12 yet."
    day.say(
        'note goal "개편된 자동화 스크립트(지수 백오프, 로그 관측성)를 '
        '프로덕션에 배포하기 전에 리허설로 검증한다."'
    )
    day.say('note goal "릴리즈 체크리스트를 최신화하고 IRIS 라인 리드 회의를 준비한다."')
    # The release checklist grows from 12 to 15 items: v1.2 is added to the folder.
    shutil.copy(EXAMPLES / "checklists" / "automation-patch-v1.2.md", tmp_path / "checklists")
    assert "12 → 15 items" in day.say("checklist diff automation-patch 1.1 1.2")
    # The rehearsal: script v1.2 five times in QA, 504s injected on attempts 1 and 2.
    assert day.say("rehearse automation-v1.2").startswith("Started rehearsal `r-")
    day.standin.wait_for(
        lambda s: [f for f in s.files() if f.filename.endswith("-journal.json")], timeout=180
    )
    # The alert rules, tested end to end.
    started = day.slack.command("alert-test timeout=60", user_id=KANG, channel_id="C0OPS")
    day.standin.wait_for_response(started.response_url_name or "", count=2, timeout=240)
    # The next steps: 13, 16 and 17 December.
    for text in (
        '"팀 교육 및 대시보드 최종 검토 문서화" 2024-12-13 10:00',
        '"IRIS 라인 리드 회의 준비" 2024-12-16 14:00',
        '"자동화 패치 프로덕션 배포" 2024-12-17 10:00',
    ):
        assert " is scheduled for " in day.say(f"brief add {text} kind=milestone remind=none")
    day.say(
        'note problem "QA 환경의 Elastic APM 인덱스가 포화되었다." '
        'response="12월 16일까지 보존 주기를 7일로 줄였다."'
    )
    day.say(
        "note work Retry Heatmap, Command Center 현황판, VPN 터널 재시도 모니터로 이상 시나리오를 점검했다."
    )
    # 16:00, the cross-team briefing: five attend, one is abroad and gets the recording.
    day.move_to("2024-12-12T15:59:52+09:00")
    people = ",".join(f"<@{user}>" for user in [*OPS_TEAM, ABROAD])
    added = day.say(
        f'brief add "Cross-team 브리핑: 배포 일정·롤백 플랜 공유" today 16:00 remind=4s attendees={people}'
    )
    briefing_id = int(added.split("`")[1])
    reminder = day.standin.wait_for(lambda s: next(iter(day.top("C0OPS", "Cross-team")), None), timeout=30)
    for user in OPS_TEAM:
        day.slack.block_action("brief_attend", _value(reminder), user_id=user, message_ts=reminder.ts)
    day.slack.block_action("brief_absent", _value(reminder), user_id=ABROAD, message_ts=reminder.ts)
    day.standin.wait_for(lambda s: len(day.top("C0OPS", "Cross-team")) == 2, timeout=30)  # it has started
    done = day.say(f"brief done {briefing_id} recording=<https://rec.example/cross-team-20241212>")
    assert done == f"Posted in the briefing's thread and sent to those who were absent: <@{ABROAD}>."


def _report_files(standin: SlackStandin) -> list[StoredFile]:
    return [f for f in standin.files() if f.completed and f.filename.startswith("report-")]


def _report(tmp_path: Path, lang: str, form: str) -> str:
    (tmp_path / f"iris-{lang}.yml").write_text(IRIS_YML.replace("{byline}", BYLINE[lang]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env |= {
        "IRIS_DATABASE_URL": f"sqlite:///{tmp_path / 'iris.db'}",
        "IRIS_CONFIG": str(tmp_path / f"iris-{lang}.yml"),
    }
    done = subprocess.run(
        [*iris_command(), "report", "--date", "2024-12-12", "--lang", lang, "--format", form],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _as_golden(text: str, engine: Engine, lang: str) -> str:
    """What changes from one replay to the next (ids, Slack links, measured seconds) as placeholders."""
    with read_scope(engine) as session:
        [rehearsal] = session.exec(select(Rehearsal)).all()
        [test] = session.exec(select(AlertTestRun)).all()
    summary = json.loads(rehearsal.summary)
    seconds = f"{summary['recovery_mean']:.2f}"
    unit = "초" if lang == "ko" else " s"
    text = text.replace(rehearsal.id, "{rehearsal}").replace(test.run_id, "{alert_test}")
    text = text.replace(f"{seconds}{unit}", "{recovery_mean}")
    return re.sub(r"https://slack\.com/archives/C0OPS/p\d+", "{slack_thread}", text)


@pytest.fixture(scope="module")
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One working folder for the day and both reports of it: the day is lived once, for a minute."""
    return tmp_path_factory.mktemp("brief-day")


@pytest.fixture(scope="module")
def brief_day(tmp_path: Path, upstream: str) -> Iterator[Engine]:
    with SlackStandin() as standin:
        yield from _replay(standin, tmp_path, upstream)


def _replay(standin: SlackStandin, tmp_path: Path, upstream: str) -> Iterator[Engine]:
    _workdir(tmp_path, upstream)
    start = "2024-12-11T18:00:00+09:00"
    clock = Clock(tmp_path / "clock", start)
    frozen = {
        "IRIS_TEST_FROZEN_AT": start,
        "IRIS_TEST_CLOCK_FILE": str(clock.path),
        "IRIS_TIMEZONE": "Asia/Seoul",
    }
    env = server_env(standin, tmp_path, **frozen)
    (tmp_path / "iris.yml").write_text(IRIS_YML.replace("{byline}", BYLINE["en"]))
    command = [sys.executable, str(Path(__file__).with_name("frozen_iris.py"))]
    server = IrisServer(env=env, workdir=tmp_path, command=command, startup_timeout=60).start()
    try:
        with SlackDriver(server.base_url, SIGNING_SECRET, standin=standin, clock=clock) as slack:
            day = Day(server, slack, standin, clock)
            _live_the_day(day, tmp_path)
            # 16:00 is also when the day's report is posted, with its files in its thread, once.
            post = standin.wait_for(lambda s: next(iter(day.top("C0REP", "")), None), timeout=60)
            files = standin.wait_for(lambda s: _report_files(s)[1:] and _report_files(s))
            assert sorted((f.filename, f.channel, f.thread_ts) for f in files) == [
                ("report-2024-12-12-en.html", "C0REP", post.ts),
                ("report-2024-12-12-en.md", "C0REP", post.ts),
            ]
            server.stop()
            restart = "2024-12-12T16:05:00+09:00"
            server.env["IRIS_TEST_FROZEN_AT"] = restart
            clock.restart_at(restart)
            server.start()  # a restart after the post: it is not posted again
            time.sleep(1.0)  # a settle time for a second post that must not come; nothing asserts speed
            assert [m.ts for m in standin.messages("C0REP") if m.thread_ts is None] == [post.ts]
    finally:
        if server.process is not None:
            server.stop()
    engine = open_engine(env["IRIS_DATABASE_URL"])
    yield engine
    engine.dispose()


def test_the_briefs_day_is_written_as_the_briefs_report_in_korean_and_english(
    brief_day: Engine, tmp_path: Path
) -> None:
    for lang in ("ko", "en"):
        for form, suffix in (("md", "md"), ("html", "html")):
            written = _report(tmp_path, lang, form)
            golden = GOLDEN / f"report-2024-12-12-{lang}.{suffix}"
            if os.environ.get("IRIS_WRITE_GOLDEN"):  # after a deliberate change: review the diff
                golden.write_text(_as_golden(written, brief_day, lang))
            assert _as_golden(written, brief_day, lang) == golden.read_text(), f"{golden.name} differs"
            if form == "html":
                # Nothing that a sanitiser allowing only these tags, without attributes, would take out.
                cleaned = nh3.clean(written, tags=set(HTML_TAGS), attributes={})
                assert html.unescape(cleaned) == html.unescape(written)


def test_the_reports_figures_are_the_databases(brief_day: Engine, tmp_path: Path) -> None:
    figures = json.loads(_report(tmp_path, "en", "json"))["figures"]
    with read_scope(brief_day) as session:
        runs = session.exec(select(RehearsalRun)).all()
        recovered = [r.recovery for r in runs if r.outcome == "recovered" and r.recovery is not None]
        [test] = session.exec(select(AlertTestRun)).all()
        template = session.exec(select(ChecklistTemplate).where(ChecklistTemplate.version == "1.2")).one()
        posts = [(p.day.isoformat(), p.status) for p in session.exec(select(ReportPost).order_by("day"))]
    assert (
        (figures["rehearsal_runs"], figures["rehearsal_runs_recovered"])
        == (len(runs), len(recovered))
        == (5, 5)
    )
    assert figures["recovery_mean"] == pytest.approx(sum(recovered) / len(recovered))
    assert (
        (figures["alert_tests_passed"], figures["alert_tests_total"]) == (test.passed, test.total) == (7, 8)
    )
    assert (
        figures["checklist_items"]
        == {"automation-patch v1.2": template.item_count}
        == {"automation-patch v1.2": 15}
    )
    assert (figures["briefings_held"], figures["alert_groups_fired"]) == (1, 0)
    # IRIS first started at 18:00 on the 11th, past that day's 16:00 and its grace: recorded as missed.
    assert posts == [("2024-12-11", "missed"), ("2024-12-12", "posted")]
