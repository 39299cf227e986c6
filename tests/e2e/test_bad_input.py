"""The bad-input corpus (tests/fixtures/bad_input/) against the running `iris serve`: every malformed,
unsigned or oversized request gets its documented status, never a 500 or a traceback, and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from storage import audit, outbox
from storage.clock import utcnow
from storage.db import session_scope
from tests.e2e.conftest import IrisServer

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input"
SLACK_EVENTS = json.loads((CORPUS / "slack_events.json").read_text(encoding="utf-8"))["cases"]


def _body(case: dict[str, Any]) -> bytes:
    if "nest" in case:
        return ("[" * case["nest"] + "]" * case["nest"]).encode()
    return str(case["body"]).encode()


@pytest.fixture
def iris(iris_each_db: IrisServer) -> IrisServer:
    """Every corpus runs against a server on SQLite and on PostgreSQL."""
    return iris_each_db


def test_slack_events_corpus_gets_its_status_and_no_traceback(
    iris: IrisServer, driver: SlackDriver, iris_db: Engine
) -> None:
    answers = {}
    for case in SLACK_EVENTS:
        body = _body(case)
        headers = {"Content-Type": case["content_type"]} | (driver.sign(body) if case["signed"] else {})
        result = driver.raw(body, headers)
        answers[case["name"]] = (result.status_code, result.json())
    expected = {case["name"]: case["status"] for case in SLACK_EVENTS}
    assert {name: status for name, (status, _) in answers.items()} == expected
    assert all(isinstance(body, dict) and body.get("error") for _, body in answers.values()), answers
    log = iris.log.read_text()
    assert "Traceback" not in log
    with session_scope(iris_db) as session:
        assert audit.since(session, utcnow().replace(year=2000)) == []
        assert outbox.count_by_status(session) == {}
    assert iris.get("/healthz").status_code == 200
