"""The bad-input corpus (tests/fixtures/bad_input/) against the running `iris serve`: every malformed,
unsigned or oversized request gets its documented status, never a 500 or a traceback, and stores nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import audit, outbox
from storage.alerts import Alert, AlertGroup
from storage.audit import AuditEvent
from storage.clock import utcnow
from storage.db import read_scope, session_scope
from tests.e2e.conftest import IrisServer, database_of, running, server_env

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input"
SLACK_EVENTS = json.loads((CORPUS / "slack_events.json").read_text(encoding="utf-8"))["cases"]
SLACK_REFUSALS = json.loads((CORPUS / "slack_refusals.json").read_text(encoding="utf-8"))["cases"]


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


# -- the alert webhooks: tests/fixtures/bad_input/alertmanager.json and grafana.json ---------------

ALERT_TOKEN = "corpus-alert-token-0123456789"
ALERT_SOURCES = ("alertmanager", "grafana")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def alerting_iris(
    request: pytest.FixtureRequest, standin: SlackStandin, tmp_path: Path
) -> Iterator[IrisServer]:
    """`iris serve` with its alert webhooks on, on a SQLite file and on PostgreSQL (emptied first)."""
    overrides = {"IRIS_ALERT_TOKEN": ALERT_TOKEN}
    if request.param == "postgresql":
        request.getfixturevalue("engine_for_postgres_server")
        overrides["IRIS_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    yield from running(server_env(standin, tmp_path, **overrides), tmp_path)


@pytest.fixture
def alerting_iris_db(alerting_iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(alerting_iris)


def _expand(value: Any) -> Any:
    """{"$text": c, "times": n} is c repeated n times, wherever it stands."""
    if isinstance(value, dict):
        if set(value) == {"$text", "times"}:
            return value["$text"] * value["times"]
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _at(data: Any, pointer: str) -> tuple[Any, str | int]:
    """The container a JSON pointer's last step is in, and that step."""
    *steps, last = pointer.split("/")[1:]
    for step in steps:
        data = data[int(step)] if isinstance(data, list) else data[step]
    return data, int(last) if isinstance(data, list) else last


def _alert_body(case: dict[str, Any], base: dict[str, Any]) -> bytes:
    if "raw" in case:
        return str(case["raw"]).encode()
    if "raw_hex" in case:
        return bytes.fromhex(case["raw_hex"])
    if "nest" in case:
        return ("[" * case["nest"] + "]" * case["nest"]).encode()
    if "nest_objects" in case:
        return ('{"a":' * case["nest_objects"] + "1" + "}" * case["nest_objects"]).encode()
    if "body" in case:
        return json.dumps(case["body"]).encode()
    data = copy.deepcopy(base)
    make = case.get("make", {})
    if "alerts" in make:
        first = data["alerts"][0]
        data["alerts"] = [
            {
                **copy.deepcopy(first),
                "fingerprint": first["fingerprint"] if make.get("same_fingerprint") else f"{i:016x}",
                "labels": {**first["labels"], "pod": f"p{i}"},
            }
            for i in range(make["alerts"])
        ]
    for pointer, value in case.get("set", {}).items():
        container, key = _at(data, pointer)
        container[key] = _expand(value)
    for pointer in case.get("drop", []):
        container, key = _at(data, pointer)
        del container[key]
    body = json.dumps(data).encode()
    return body + b" " * max(0, make.get("pad_to_bytes", 0) - len(body))


def _alert_headers(case: dict[str, Any]) -> dict[str, str]:
    auth = {
        "bearer": f"Bearer {ALERT_TOKEN}",
        "lowercase": f"bearer {ALERT_TOKEN}",
        "wrong": f"Bearer {ALERT_TOKEN}x",
        "basic": f"Basic {ALERT_TOKEN}",
        "bare": "Bearer",
        "none": None,
    }[case.get("auth", "bearer")]
    content_type = case.get("content_type", "application/json")
    headers = {"Authorization": auth, "Content-Type": content_type}
    return {name: value for name, value in headers.items() if value is not None}


def _stored(engine: Engine) -> tuple[int, int, list[AuditEvent]]:
    with read_scope(engine) as session:
        groups = session.exec(select(func.count()).select_from(AlertGroup)).one()
        alerts = session.exec(select(func.count()).select_from(Alert)).one()
        return groups, alerts, audit.since(session, utcnow().replace(year=2000))


def _check_alert_case(
    source: str, case: dict[str, Any], answers: list[httpx.Response], before: Any, after: Any
) -> list[str]:
    """What is wrong with how IRIS answered `case` and what it stored; empty when all is right."""
    wrong = []
    statuses = [a.status_code for a in answers]
    if statuses != [case["status"]] * len(answers):
        wrong.append(f"answered {statuses}: {answers[-1].text[:300]}")
    bodies = [a.json() for a in answers if a.headers.get("content-type") == "application/json"]
    if len(bodies) != len(answers):
        wrong.append("not every answer is JSON")
    (groups, alerts, rows), (groups_after, alerts_after, rows_after) = before, after
    new_rows = rows_after[len(rows) :]
    if 200 <= case["status"] < 300:
        expected = {"status": "stored", **case.get("expect", {})}
        if any({k: b.get(k) for k in expected} != expected for b in bodies):
            wrong.append(f"answered {bodies}, expected {expected}")
        if groups_after != groups + 1 or len({b.get("group") for b in bodies}) != 1:
            wrong.append(f"stored {groups_after - groups} groups for {bodies}")
        if new_rows:
            wrong.append(f"audited an accepted delivery: {new_rows}")
        return wrong
    if any(not isinstance(b.get("error"), str) or not b["error"] for b in bodies):
        wrong.append(f"no error sentence in {bodies}")
    if (groups_after, alerts_after) != (groups, alerts):
        wrong.append("stored alerts for a refused request")
    if case["status"] != 400:  # not authenticated, or refused at the edge: nothing recorded at all
        return wrong + ([f"audited {new_rows}"] if new_rows else [])
    if any(b.get("field") != case["field"] or case["field"] not in b["error"] for b in bodies):
        wrong.append(f"named another field than {case['field']!r}: {bodies}")
    refused = [(r.actor, r.action, r.outcome, json.loads(r.detail).get("field"), r.target) for r in new_rows]
    expected_row = (source, "alert.receive", "refused", case["field"], f"/alerts/{source}")
    if refused != [expected_row] * len(answers):
        wrong.append(f"audit rows {refused}, expected one {expected_row} per request")
    return wrong


def _requests_counted(server: IrisServer, path: str, status: int) -> float:
    prefix = f'iris_http_requests_total{{method="POST",route="{path}",status="{status}"}} '
    lines = [line for line in server.get("/metrics").text.splitlines() if line.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_refused_slack_requests_get_their_sentence_and_one_audit_row_each(
    iris: IrisServer, driver: SlackDriver, iris_db: Engine
) -> None:
    for case in SLACK_REFUSALS:
        result = driver.command(case["text"], user_id=case["user"])
        assert result.status_code == 200, case["name"]
        assert case["answer"] in driver.answer_text(result), (case["name"], driver.answer_text(result))
    with session_scope(iris_db) as session:
        rows = audit.since(session, utcnow().replace(year=2000))
    assert [(row.action, row.outcome) for row in rows] == [(c["audit"], "refused") for c in SLACK_REFUSALS]
    assert "Traceback" not in iris.log.read_text()


@pytest.mark.parametrize("source", ALERT_SOURCES)
def test_alert_webhook_corpus_gets_its_status_stores_only_what_it_accepts_and_audits_refusals(
    source: str, alerting_iris: IrisServer, alerting_iris_db: Engine
) -> None:
    corpus = json.loads((CORPUS / f"{source}.json").read_text(encoding="utf-8"))
    path, wrong = f"/alerts/{source}", {}
    with httpx.Client(base_url=alerting_iris.base_url, timeout=60) as client:
        for case in corpus["cases"]:
            body, headers = _alert_body(case, corpus["base"]), _alert_headers(case)
            url = path + case.get("query", "").replace("TOKEN", ALERT_TOKEN)
            before = _stored(alerting_iris_db)
            answers = [client.post(url, content=body, headers=headers) for _ in range(case.get("repeat", 1))]
            problems = _check_alert_case(source, case, answers, before, _stored(alerting_iris_db))
            if problems:
                wrong[case["name"]] = problems
    assert wrong == {}
    assert "Traceback" not in alerting_iris.log.read_text()
    unauthenticated = sum(case.get("repeat", 1) for case in corpus["cases"] if case["status"] == 401)
    assert _requests_counted(alerting_iris, path, 401) == unauthenticated
    assert _requests_counted(alerting_iris, path, 500) == 0
    assert alerting_iris.get("/healthz").status_code == 200


@pytest.mark.parametrize("source", ALERT_SOURCES)
def test_alert_webhooks_without_a_token_configured_refuse_everything_with_503(
    source: str, iris: IrisServer, iris_db: Engine
) -> None:
    corpus = json.loads((CORPUS / f"{source}.json").read_text(encoding="utf-8"))
    answer = httpx.post(
        f"{iris.base_url}/alerts/{source}",
        content=json.dumps(corpus["base"]).encode(),
        headers={"Authorization": "Bearer anything", "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 503 and "IRIS_ALERT_TOKEN" in answer.json()["error"]
    assert _stored(iris_db) == (0, 0, [])
