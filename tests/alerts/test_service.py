"""The alert service in process: intake refusals, and silences against a scripted Alertmanager."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.routing import Route

from bot.alerts.alert_test import AlertTester, ShuttingDown
from bot.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailable
from bot.alerts.payload import PayloadError
from bot.alerts.routing import Router
from bot.alerts.service import AlertService, NothingToSilenceBy
from bot.i18n import Translator
from commands.alerts.views import render_group
from commands.alerts.webhooks import alert_endpoints, token_accepted
from storage import alerts as repo
from storage import audit
from storage.alerts import Alert, AlertGroup
from storage.audit import Actor, Audit
from storage.db import read_scope
from tests.alerts.conftest import fixture


def by(user_id: str, action: str) -> Audit:
    return Audit(Actor(user_id), action)


NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


class ScriptedAlertmanager:
    """Answers API v2 silence calls; `expire_answer` scripts what a DELETE gets back."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.expired: list[str] = []
        self.expire_answer = httpx.Response(200)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/v2/silences":
            self.created.append(f"silence-{len(self.created) + 1}")
            return httpx.Response(200, json={"silenceID": self.created[-1]})
        if request.method == "DELETE":
            self.expired.append(request.url.path.rsplit("/", 1)[1])
            return self.expire_answer
        return httpx.Response(404)


def make_service(engine: Engine, handler: Handler | None = None) -> AlertService:
    transport = httpx.MockTransport(handler) if handler else None
    client = AlertmanagerClient("http://am.test/" if handler else None, transport=transport)
    return AlertService(engine, Router([], "C0INC"), client, lambda: NOW)


def stored(engine: Engine) -> tuple[int, int]:
    with read_scope(engine) as session:
        return (
            session.exec(select(func.count()).select_from(AlertGroup)).one(),
            session.exec(select(func.count()).select_from(Alert)).one(),
        )


def group_of(engine: Engine, group_id: int) -> AlertGroup:
    with read_scope(engine) as session:
        group = repo.get_group(session, group_id)
    assert group is not None
    return group


def test_an_empty_alert_token_admits_nobody(sqlite_engine: Engine) -> None:
    assert not token_accepted("Bearer ", SecretStr(""))
    assert not token_accepted("Bearer", SecretStr(""))
    assert not token_accepted(None, SecretStr(""))
    endpoints = alert_endpoints(make_service(sqlite_engine), SecretStr(""))
    app = Starlette(routes=[Route(e.path, e.handler, methods=list(e.methods)) for e in endpoints])

    body = json.dumps(fixture("alertmanager_firing.json"))

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://iris") as client:
            bare = {"Authorization": "Bearer "}
            return await client.post("/alerts/alertmanager", content=body, headers=bare)

    assert asyncio.run(post()).status_code == 503
    assert stored(sqlite_engine) == (0, 0)


def test_a_fingerprint_twice_in_one_call_is_a_400_naming_it_and_stores_nothing(sqlite_engine: Engine) -> None:
    data = fixture("alertmanager_firing.json")
    data["alerts"].append(dict(data["alerts"][0]))
    with pytest.raises(PayloadError) as error:
        make_service(sqlite_engine).receive("alertmanager", json.dumps(data).encode())
    assert error.value.field == "alerts[1].fingerprint"
    assert stored(sqlite_engine) == (0, 0)


@pytest.fixture
def silencing(engine: Engine) -> tuple[AlertService, ScriptedAlertmanager, int]:
    am = ScriptedAlertmanager()
    service = make_service(engine, am)
    body = json.dumps(fixture("alertmanager_firing.json")).encode()
    return service, am, service.receive("alertmanager", body).group_id


def test_silencing_again_expires_the_silence_it_replaces(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    service, am, group_id = silencing
    service.silence(group_id, 1, "first", by("U1", "alert.silence"))
    service.silence(group_id, 24, "second click, from a stale message", by("U2", "alert.silence"))
    assert am.created == ["silence-1", "silence-2"]
    assert am.expired == ["silence-1"]  # none is left that Unsilence could not reach
    group = group_of(engine, group_id)
    assert (group.silence_id, group.silenced_by) == ("silence-2", "U2")


def test_two_replicas_silencing_at_once_leave_no_silence_behind(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    _, am, group_id = silencing
    other_replica = make_service(engine, am)  # its own in-process lock: only the database is shared
    first_create = True

    def meanwhile_the_other_replica_silences(request: httpx.Request) -> httpx.Response:
        nonlocal first_create
        answer = am(request)
        if request.method == "POST" and first_create:
            first_create = False
            other_replica.silence(group_id, 4, "clicked on the other replica", by("U2", "alert.silence"))
        return answer

    racing = make_service(engine, meanwhile_the_other_replica_silences)
    racing.silence(group_id, 1, "clicked here", by("U1", "alert.silence"))
    assert am.created == ["silence-1", "silence-2"]
    assert am.expired == ["silence-2"]  # the one recorded first is expired by the one recorded last
    assert group_of(engine, group_id).silence_id == "silence-1"


def test_unsilence_of_a_silence_alertmanager_no_longer_knows_clears_it(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    service, am, group_id = silencing
    service.silence(group_id, 4, "before Alertmanager lost its data", by("U1", "alert.silence"))
    am.expire_answer = httpx.Response(500, text='"silence not found"')  # Alertmanager 0.25's answer
    service.unsilence(group_id, by("U1", "alert.unsilence"))
    assert group_of(engine, group_id).silence_id is None


def test_unsilence_refused_otherwise_records_nothing(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    service, am, group_id = silencing
    service.silence(group_id, 4, "kept", by("U1", "alert.silence"))
    am.expire_answer = httpx.Response(503, text="unavailable")
    with pytest.raises(AlertmanagerUnavailable):
        service.unsilence(group_id, by("U1", "alert.unsilence"))
    assert group_of(engine, group_id).silence_id == "silence-1"


def test_a_silence_past_its_end_offers_the_silence_buttons_again(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    service, _, group_id = silencing
    service.silence(group_id, 1, "short", by("U1", "alert.silence"))
    group = group_of(engine, group_id)
    t = Translator("en")

    def action_ids(now: datetime) -> list[str]:
        _, blocks = render_group(t, group, [], ZoneInfo("UTC"), now)
        return [e["action_id"] for e in blocks[-1]["elements"]]

    assert action_ids(NOW + timedelta(minutes=30)) == ["alert_ack", "alert_unsilence"]
    assert action_ids(NOW + timedelta(hours=2)) == [
        "alert_ack",
        "alert_silence_1",
        "alert_silence_4",
        "alert_silence_24",
    ]


def test_without_an_alertmanager_no_silence_is_offered_and_the_message_says_what_to_set(
    silencing: tuple[AlertService, ScriptedAlertmanager, int], engine: Engine
) -> None:
    _, _, group_id = silencing
    group = group_of(engine, group_id)
    t = Translator("en")
    _, blocks = render_group(t, group, [], ZoneInfo("UTC"), NOW, silences=False)
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["alert_ack"]
    assert "Silence buttons appear once `IRIS_ALERTMANAGER_URL` is set." in json.dumps(blocks)

    group.acked_by, group.status = "U1", "resolved"  # nothing left to offer: no empty actions block
    _, blocks = render_group(t, group, [], ZoneInfo("UTC"), NOW, silences=False)
    assert all(b["type"] != "actions" for b in blocks)


def test_two_notifications_of_one_group_at_once_are_both_stored(engine: Engine) -> None:
    """An Alertmanager HA pair may both send a group's notification at the same moment."""
    service = make_service(engine)
    data = fixture("alertmanager_firing.json")
    service.receive("alertmanager", json.dumps(data).encode())
    failures: list[Exception] = []
    for n in range(10):
        data["alerts"].append({**data["alerts"][0], "fingerprint": f"{n:016x}"})
        body, both = json.dumps(data).encode(), threading.Barrier(2)

        def receive(body: bytes = body, both: threading.Barrier = both) -> None:
            both.wait()
            try:
                service.receive("alertmanager", body)
            except Exception as exc:  # collected for the assertion below
                failures.append(exc)

        senders = [threading.Thread(target=receive) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    assert failures == []
    assert stored(engine) == (1, 11)
    with read_scope(engine) as session:
        assert [e.kind for e in repo.events_of(session, 1)] == ["fired", *["joined"] * 10]


def test_a_group_firing_again_after_it_resolved_is_no_longer_acknowledged(engine: Engine) -> None:
    service = make_service(engine)
    data = fixture("alertmanager_firing.json")
    group_id = service.receive("alertmanager", json.dumps(data).encode()).group_id
    service.acknowledge(group_id, by("U1", "alert.ack"))
    for alert in data["alerts"]:
        alert.update(status="resolved", endsAt="2024-12-12T07:10:00Z")
    service.receive("alertmanager", json.dumps({**data, "status": "resolved"}).encode())
    assert group_of(engine, group_id).acked_by == "U1"  # kept on the resolved incident
    for alert in data["alerts"]:
        alert.update(status="firing", startsAt="2024-12-12T08:00:00Z", endsAt="0001-01-01T00:00:00Z")
    service.receive("alertmanager", json.dumps({**data, "status": "firing"}).encode())
    group = group_of(engine, group_id)
    assert group.status == "firing" and group.acked_by is None and group.acked_at is None


def test_a_group_without_labels_is_not_silenced_with_no_matchers(engine: Engine) -> None:
    am = ScriptedAlertmanager()
    service = make_service(engine, am)
    data = fixture("alertmanager_firing.json")
    data.update(groupKey="{}:{}", groupLabels={}, commonLabels={})  # group_by: [] and nothing shared
    group_id = service.receive("alertmanager", json.dumps(data).encode()).group_id
    with pytest.raises(NothingToSilenceBy):
        service.silence(group_id, 1, "everything?", by("U1", "alert.silence"))
    assert am.created == [] and group_of(engine, group_id).silence_id is None


def test_an_acknowledgement_and_its_audit_row_commit_together_or_not_at_all(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(engine)
    group_id = service.receive(
        "alertmanager", json.dumps(fixture("alertmanager_firing.json")).encode()
    ).group_id
    real_record = audit.record

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        service.acknowledge(group_id, by("U1", "alert.ack"))
    assert group_of(engine, group_id).acked_by is None
    monkeypatch.setattr(audit, "record", real_record)
    service.acknowledge(group_id, by("U2", "alert.ack"))
    with read_scope(engine) as session:
        trail = [
            (e.action, e.target, e.actor) for e in audit.since(session, datetime(2000, 1, 1, tzinfo=UTC))
        ]
    assert trail == [("alert.ack", str(group_id), "U2")] and group_of(engine, group_id).acked_by == "U2"


def test_no_alert_test_starts_once_iris_is_stopping(engine: Engine) -> None:
    class Reporter:
        def results(self, test: object, results: object) -> None:
            raise AssertionError("nothing may run")

    tester = AlertTester(make_service(engine), Reporter(), None, None)
    tester.close()
    with pytest.raises(ShuttingDown):
        tester.start(5.0, by("U1", "alert.test"), "https://hooks.example/1")
    with read_scope(engine) as session:
        assert audit.since(session, datetime(2000, 1, 1, tzinfo=UTC)) == []  # nothing was started
