"""`/iris note` and `/iris report` end to end: `iris serve`, the Slack stand-in, signed commands, clicks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.model import StoredFile
from bot.slack_standin.server import SlackStandin
from commands.reports.views import HTML_ACTION, MARKDOWN_ACTION, POST_ACTION
from storage import audit
from storage.db import read_scope
from tests.e2e.conftest import ADMIN, IrisServer, database_of, driving, running, server_env

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

AUDIT_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
KANG, PARK = "UKANGCS1", "UPARK001"


def _iris_yml(reports_channel: bool) -> str:
    channels = "{default: C0OPS, reports: C0REP}" if reports_channel else "{default: C0OPS}"
    return f"channels: {channels}\nroles: {{admins: [{ADMIN}]}}\n"


@pytest.fixture(params=[True, False], ids=["reports-channel", "no-reports-channel"])
def report_iris(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path
) -> Iterator[IrisServer]:
    env = server_env(standin, tmp_path, IRIS_TIMEZONE="Asia/Seoul")
    Path(env["IRIS_CONFIG"]).write_text(_iris_yml(request.param))
    yield from running(env, tmp_path)


@pytest.fixture
def slack(report_iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(report_iris, standin)


@pytest.fixture
def iris_db(report_iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(report_iris)


def _say(slack: SlackDriver, text: str, user: str = KANG) -> str:
    return slack.answer_text(slack.command(text, user_id=user))


def _private(slack: SlackDriver, text: str, user: str = KANG) -> dict[str, Any]:
    """The whole private answer to a command: text, blocks and response type."""
    return slack.answer(slack.command(text, user_id=user))


def _click(
    slack: SlackDriver, standin: SlackStandin, action: str, value: str, user: str = KANG
) -> dict[str, Any]:
    click = slack.block_action(action, value, user_id=user)
    assert click.status_code == 200 and click.response_url_name is not None
    return dict(standin.wait_for_response(click.response_url_name)[0])


def _button_value(answer: dict[str, Any], action: str) -> str:
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    return next(str(e["value"]) for e in actions["elements"] if e["action_id"] == action)


def _both_files(standin: SlackStandin, thread_ts: str) -> list[StoredFile] | None:
    """The report's two files, once both are uploaded into the post's thread."""
    files = [f for f in standin.files() if f.completed and f.thread_ts == thread_ts]
    return files if len(files) == 2 else None


def _trail(engine: Engine) -> list[tuple[str, str, str]]:
    with read_scope(engine) as session:
        return [(e.actor, e.action, e.outcome) for e in audit.since(session, AUDIT_SINCE)]


@pytest.mark.parametrize("report_iris", [True], indirect=True, ids=["reports-channel"])
def test_notes_a_preview_its_buttons_and_a_post_with_its_files(
    slack: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    noted = _say(slack, 'note goal "Rehearse the automation script v1.2 before production"')
    assert noted.startswith("Noted for the report of ") and noted.endswith(": goal (note 1).")
    _say(slack, 'note problem "APM index saturated in QA" response="retention cut to 7 days"', user=PARK)
    listed = _say(slack, "note list")
    assert "Rehearse the automation script v1.2 before production" in listed and "APM index" in listed

    preview = _private(slack, 'report stage="Step 4 — stability" keywords="rehearsal, retry QA"')
    assert preview.get("response_type", "ephemeral") == "ephemeral"
    shown = json.dumps(preview["blocks"], ensure_ascii=False)
    assert "Background and goal" in shown and "Rehearse the automation script v1.2" in shown
    assert "*Stage*: Step 4 — stability · *Keywords*: rehearsal, retry QA" in shown
    assert "APM index saturated in QA — response: retention cut to 7 days" in shown
    value = _button_value(preview, POST_ACTION)
    assert _button_value(preview, MARKDOWN_ACTION) == _button_value(preview, HTML_ACTION) == value

    markdown = json.dumps(_click(slack, standin, MARKDOWN_ACTION, value)["blocks"], ensure_ascii=False)
    assert "# Daily report" in markdown and "## 1. Background and goal" in markdown
    html = json.dumps(_click(slack, standin, HTML_ACTION, value)["blocks"], ensure_ascii=False)
    assert "&lt;h3&gt;Daily report&lt;/h3&gt;" in html  # escaped for Slack, shown as <h3> to copy

    posted = _click(slack, standin, POST_ACTION, value)
    assert posted["text"].endswith("in <#C0REP>, with its Markdown and HTML files.")
    post = standin.wait_for(lambda s: next(iter(s.messages("C0REP")), None))
    files = standin.wait_for(lambda s: _both_files(s, post.ts))
    day = json.loads(value)["day"]
    assert sorted(f.filename for f in files) == [f"report-{day}-en.html", f"report-{day}-en.md"]
    [markdown_file] = [f for f in files if f.filename.endswith(".md")]
    assert markdown_file.data is not None and b"Rehearse the automation script v1.2" in markdown_file.data
    assert (
        "- **Stage**: Step 4 — stability\n- **Keywords**: rehearsal, retry QA" in markdown_file.data.decode()
    )
    assert (KANG, "report.post", "ok") in _trail(iris_db)


@pytest.mark.parametrize("report_iris", [True], indirect=True, ids=["reports-channel"])
def test_a_note_is_deleted_by_its_author_or_an_admin_only(slack: SlackDriver, iris_db: Engine) -> None:
    _say(slack, 'note work "Checked the Retry Heatmap"')
    refused = _say(slack, "note delete 1", user=PARK)
    assert refused == f"Only <@{KANG}>, who wrote note 1, or an IRIS admin can delete it."
    assert _say(slack, "note delete 1").startswith("Deleted note 1")
    assert _say(slack, "note delete 1", user=ADMIN).startswith("There is no note 1")
    trail = _trail(iris_db)
    assert (KANG, "note.add", "ok") in trail and (KANG, "note.delete", "ok") in trail
    assert (PARK, "note.delete", "refused") in trail


@pytest.mark.parametrize("report_iris", [True], indirect=True, ids=["reports-channel"])
def test_bad_input_gets_one_private_sentence(slack: SlackDriver, standin: SlackStandin) -> None:
    assert _say(slack, "report 2999-01-01").startswith(
        "A report is of a day that has begun; `2999-01-01` has not."
    )
    assert _say(slack, "report lang=fr").startswith("`lang=` is")
    assert _say(slack, 'note sometime "x"').startswith(
        "`sometime` is not a kind of note; kinds are goal, work, problem, next and ref"
    )
    for value in (
        "2024-12-12:en",
        '{"day":"2024-12-12","lang":"xx"}',
        '{"day":"2024-12-12","lang":"en","stage":7}',
    ):
        forged = _click(slack, standin, POST_ACTION, value)
        assert forged["text"].startswith("That button was not made by this IRIS")
    assert standin.messages("C0REP") == []


@pytest.mark.parametrize("report_iris", [False], indirect=True, ids=["no-reports-channel"])
def test_posting_without_a_reports_channel_says_what_to_set(
    slack: SlackDriver, standin: SlackStandin
) -> None:
    assert _say(slack, "report post") == "Set `channels.reports` in iris.yml to post reports."
    assert standin.calls("chat.postMessage") == []
