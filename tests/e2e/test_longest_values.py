"""The longest value each field admits, and one more, through `iris serve` on SQLite and PostgreSQL.

PostgreSQL checks varchar(N) and refuses NUL where SQLite does neither: what a person typed is stored
whole up to its limit, one character more gets the sentence naming the limit, and nothing crashes.
The values come from tests/fixtures/bad_input/lengths.json.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import audit, fit
from storage.checklists import Checklist, ChecklistEvent, ChecklistSignoff
from storage.db import read_scope
from storage.rehearsals import Rehearsal
from storage.reports import Note
from tests import lengths
from tests.checklists.conftest import EXAMPLES
from tests.e2e.conftest import ADMIN, IrisServer, database_of, driving, eventually, running, server_env

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

NOBODY = "UNOROLE1"  # a user in no role
SCENARIO = lengths.longest("scenario name")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def lengths_iris(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path
) -> Iterator[IrisServer]:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "longest.yml").write_text(
        f'name: {SCENARIO}\nruns: 1\ntarget:\n  command: ["{sys.executable}", "-c", "pass"]\n'
        "upstream: http://127.0.0.1:9\n"
    )
    shutil.copytree(EXAMPLES, tmp_path / "checklists")
    overrides = {}
    if request.param == "postgresql":
        request.getfixturevalue("engine_for_postgres_server")
        overrides["IRIS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    env = server_env(standin, tmp_path, **overrides)
    Path(env["IRIS_CONFIG"]).write_text(
        f"channels: {{default: C0OPS}}\nroles: {{admins: [{ADMIN}]}}\n"
        "folders: {scenarios: scenarios, checklists: checklists}\n"
    )
    yield from running(env, tmp_path)


@pytest.fixture
def slack(lengths_iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(lengths_iris, standin)


@pytest.fixture
def iris_db(lengths_iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(lengths_iris)


def _say(slack: SlackDriver, text: str, user: str = ADMIN, **options: object) -> str:
    return slack.answer_text(slack.command(text, user_id=user, **options))


def _trail(engine: Engine) -> list[audit.AuditEvent]:
    with read_scope(engine) as session:
        return audit.since(session, datetime(2000, 1, 1, tzinfo=UTC))


def _clean_log(server: IrisServer) -> None:
    log = server.log.read_text()
    assert "Traceback" not in log and "failed [ref" not in log, log


def test_a_long_scenario_name_from_someone_in_no_role_is_refused_and_audited(
    slack: SlackDriver, iris_db: Engine, lengths_iris: IrisServer
) -> None:
    name = lengths.value(lengths.CORPUS["hostile"][0])  # 300 characters
    assert _say(slack, f"rehearse {name}", user=NOBODY) == (
        "Only members of the release_managers role can do that. Ask an IRIS admin to add you to the role "
        "in iris.yml."
    )
    (refusal,) = _trail(iris_db)
    assert (refusal.actor, refusal.action, refusal.outcome) == (NOBODY, "rehearsal.start", "refused")
    assert len(refusal.target) == 255 and name.startswith(refusal.target.rstrip("…"))
    assert json.loads(refusal.digests or "{}")["target"] == {"sha256": fit.sha256(name), "chars": 300}
    with read_scope(iris_db) as session:
        assert session.exec(select(Rehearsal)).all() == []
    _clean_log(lengths_iris)


def test_a_scenario_name_of_64_characters_starts_and_65_is_a_sentence(
    slack: SlackDriver, iris_db: Engine, lengths_iris: IrisServer
) -> None:
    too_long = lengths.over("scenario name")
    assert _say(slack, f"rehearse {too_long}") == (
        f"`{too_long[:59]}…` is not a scenario name: names have 1 to 64 lower-case letters, digits, "
        "'.', '_' or '-'; `/iris rehearse list` shows them."
    )
    assert _say(slack, f"rehearse {SCENARIO}").startswith("Started rehearsal `r-")
    with read_scope(iris_db) as session:
        (rehearsal,) = session.exec(select(Rehearsal)).all()
    assert rehearsal.scenario == SCENARIO and rehearsal.started_by == ADMIN
    _clean_log(lengths_iris)


def test_checklist_release_reason_and_note_at_their_longest_and_one_over(
    slack: SlackDriver, standin: SlackStandin, iris_db: Engine, lengths_iris: IrisServer
) -> None:
    too_long = lengths.over("checklist release")
    assert _say(slack, f"checklist start automation-patch {too_long}") == (
        "A release name has at most 120 characters."
    )
    release = lengths.longest("checklist release")
    slack.command(f"checklist start automation-patch {release}", user_id=ADMIN)
    started = eventually(lambda: _rows(iris_db, Checklist))
    assert [c.release for c in started] == [release]
    posted = standin.wait_for(lambda s: next((m for m in s.messages("C0OPS") if m.blocks), None))
    origin = f"C0OPS {posted.ts}"  # the forms are opened from the checklist's message

    def submit(view: str, text: str, position: int = 3) -> dict[str, object] | None:
        values = {"text": {"text_input": {"type": "plain_text_input", "value": text}}}
        metadata = f"1:{position} {origin}"
        done = slack.view_submission(view, values, private_metadata=metadata, user_id=ADMIN)
        assert done.status_code == 200
        return done.json()

    assert submit("checklist_na_view", lengths.over("checklist N/A reason")) == {
        "response_action": "errors",
        "errors": {"text": "At most 500 characters."},
    }
    assert submit("checklist_note_view", lengths.over("checklist note")) == {
        "response_action": "errors",
        "errors": {"text": "At most 1000 characters."},
    }
    reason = lengths.longest("checklist N/A reason")
    assert submit("checklist_na_view", reason) is None
    note = lengths.longest("checklist note")[:-10] + "\x00\ud800 tail"  # NUL and a lone surrogate
    assert submit("checklist_note_view", note, position=2) is None
    signoffs = eventually(lambda: _rows(iris_db, ChecklistSignoff))
    assert [s.reason for s in signoffs] == [reason]
    notes = eventually(lambda: [e for e in _rows(iris_db, ChecklistEvent) if e.kind == "note"])
    assert fit.clean(note) in json.dumps(json.loads(notes[0].detail), ensure_ascii=False)
    _clean_log(lengths_iris)


def test_report_notes_stage_and_keywords_at_their_longest_and_one_over(
    slack: SlackDriver, iris_db: Engine, lengths_iris: IrisServer
) -> None:
    assert _say(slack, f'note work "{lengths.over("report note")}"') == "A note has at most 1000 characters."
    response = lengths.over("report note response")
    assert _say(slack, f'note problem "x" response="{response}"') == "A note has at most 1000 characters."
    assert _say(slack, f'report stage="{lengths.over("report stage")}"') == (
        "`stage=` has at most 200 characters."
    )
    assert "60" in _say(slack, f'report keywords="{lengths.over("report keyword")}"')
    text, response = lengths.longest("report note"), lengths.longest("report note response")
    _say(slack, f'note problem "{text}" response="{response}"')
    hostile = "NUL\x00 inside"
    _say(slack, f'note work "{hostile}"')
    notes = eventually(lambda: [rows for rows in [_rows(iris_db, Note)] if len(rows) == 2])[0]
    assert [(n.text, n.response) for n in notes] == [(text, response), (fit.clean(hostile), None)]
    stage, keyword = lengths.longest("report stage"), lengths.longest("report keyword")
    preview = _say(slack, f'report stage="{stage}" keywords="{keyword}"')
    assert "has at most" not in preview
    _clean_log(lengths_iris)


@pytest.mark.parametrize("case", lengths.CORPUS["slack_ids"], ids=lambda case: case["name"])
def test_a_slack_id_longer_than_slack_sends_is_refused_and_audited(
    slack: SlackDriver, iris_db: Engine, lengths_iris: IrisServer, case: dict[str, object]
) -> None:
    fields = {"user_id": ADMIN, "channel_id": "C0OPS", "extra": {}}
    if case["field"] == "team_id":
        fields["extra"] = {"team_id": lengths.value(case)}
    else:
        fields[str(case["field"])] = lengths.value(case)
    answer = _say(slack, 'note work "from a foreign id"', user=fields.pop("user_id"), **fields)  # type: ignore[arg-type]
    assert answer == (
        "IRIS cannot act on this request: a user, team or channel id in it is not one Slack sends "
        "(at most 32 plain characters)."
    )
    (refusal,) = _trail(iris_db)
    assert (refusal.action, refusal.outcome) == ("slack.request", "refused")
    assert _rows(iris_db, Note) == []
    _clean_log(lengths_iris)


def test_a_slack_id_of_32_characters_is_stored_whole(
    slack: SlackDriver, iris_db: Engine, lengths_iris: IrisServer
) -> None:
    user = lengths.longest("slack id")
    _say(slack, 'note work "from the longest id"', user=user, channel_id="C" + user[1:])
    notes = eventually(lambda: _rows(iris_db, Note))
    assert [(n.author, n.channel_id) for n in notes] == [(user, "C" + user[1:])]
    (event,) = _trail(iris_db)
    assert (event.actor, event.digests) == (user, None)


def _rows(engine: Engine, table: type) -> list:  # type: ignore[type-arg]
    with read_scope(engine) as session:
        return list(session.exec(select(table).order_by(table.id)).all())
