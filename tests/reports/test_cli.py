"""`iris report` as a subprocess, on SQLite and PostgreSQL: each form, a file, and what it refuses."""

from __future__ import annotations

import html
import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import nh3
import pytest
from sqlalchemy import Engine

from bot.reports.render import HTML_TAGS
from storage.db import open_engine
from storage.migrate import upgrade
from tests.e2e.conftest import iris_command
from tests.reports.conftest import Recorder, at

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

HOSTILE = "<script>alert(1)</script> & <b>bold</b> <@U0BOSS>"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database with nothing recorded in it."""
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url)
    upgrade(engine, url)
    engine.dispose()
    return url


def _iris(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env |= {"IRIS_DATABASE_URL": url, "IRIS_TIMEZONE": "Asia/Seoul"}
    return subprocess.run(
        [*iris_command(), "report", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_html_goes_into_a_file_and_a_hostile_note_comes_out_as_text(
    db: tuple[Engine, str], recorder: Recorder, tmp_path: Path
) -> None:
    recorder.note("work", HOSTILE)
    recorder.rehearsal(at(10))
    out = tmp_path / "report.html"
    done = _iris(
        db[1], tmp_path, "--date", "2024-12-12", "--lang", "ko", "--format", "html", "--out", str(out)
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    written = out.read_text(encoding="utf-8")
    assert written.startswith("<h3>일일 업무 보고</h3>\n<p><strong>날짜</strong>: 2024년 12월 12일 (목)")
    assert (
        "<li>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; &lt;@U0BOSS&gt;</li>"
        in written
    )
    cleaned = nh3.clean(written, tags=set(HTML_TAGS), attributes={})
    assert html.unescape(cleaned) == html.unescape(written)


def test_the_json_form_carries_the_figures(
    db: tuple[Engine, str], recorder: Recorder, tmp_path: Path
) -> None:
    recorder.rehearsal(at(10))
    recorder.alert_test(at(13), ["pass"] * 7 + ["fail"])
    done = _iris(db[1], tmp_path, "--date", "2024-12-12", "--format", "json", "--keywords", "QA, rehearsal")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["day"] == "2024-12-12" and report["lang"] == "en"
    assert ["Keywords", [{"text": "QA, rehearsal", "strong": False, "url": None, "user": None}]] in report[
        "header"
    ]
    figures = report["figures"]
    assert (figures["rehearsal_runs"], figures["alert_tests_passed"], figures["alert_tests_total"]) == (
        5,
        7,
        8,
    )


def test_without_a_date_it_is_todays_report_on_the_teams_calendar(sqlite_url: str, tmp_path: Path) -> None:
    before = datetime.now(ZoneInfo("Asia/Seoul")).date()
    done = _iris(sqlite_url, tmp_path, "--format", "json")
    after = datetime.now(ZoneInfo("Asia/Seoul")).date()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["day"] in {before.isoformat(), after.isoformat()}
    assert json.loads(done.stdout)["quiet"].startswith("Nothing was recorded on ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--date", "2024-13-01"],
            "argument --date: '2024-13-01' is not a day such as 2026-12-07, today or yesterday",
        ),
        (["--date", "2999-01-01"], "iris: 2999-01-01 has not begun yet in Asia/Seoul; give a day up to "),
        (
            ["--date", "1999-01-01"],
            "iris: 1999-01-01 is more than ten years ago, before IRIS could have recorded it.",
        ),
        (
            ["--date", "today", "--out", "/nonexistent/folder/report.md"],
            "iris: Cannot write /nonexistent/folder/report.md: ",
        ),
        (["--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
        (["--stage", "s" * 201], "iris: --stage has at most 200 characters."),
    ],
)
def test_what_it_refuses_is_one_sentence_and_exit_code_2(
    sqlite_url: str, tmp_path: Path, args: list[str], said: str
) -> None:
    done = _iris(sqlite_url, tmp_path, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert said in done.stderr.strip().splitlines()[-1]


def test_a_mistyped_database_path_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "iris-typo.db"
    done = _iris(f"sqlite:///{missing}", tmp_path, "--date", "today")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"iris: There is no database at sqlite:///{missing}: {missing} does not exist; "
        "check IRIS_DATABASE_URL.\n"
    )
    assert not missing.exists()
