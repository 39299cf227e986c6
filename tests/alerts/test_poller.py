"""Pull mode in process: the lease (one poller wins, another takes over) and polls against a scripted
Alertmanager feeding the real service, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.alerts.alertmanager import AlertmanagerClient
from bot.alerts.payload import PULLED
from bot.alerts.poller import FAILED, POLLED, STANDBY, AlertPoller, PullStatus
from bot.alerts.pull import PullConfig
from bot.alerts.routing import Router
from bot.alerts.service import AlertService
from storage import alert_pull as lease
from storage.alerts import Alert, AlertEvent, AlertGroup
from storage.db import read_scope, session_scope
from tests.alerts.conftest import FIXTURES

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
URL = "http://am.test/"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedAlertmanager:
    """Answers /api/v2/alerts/groups with `groups` and /api/v2/status with `started`; down when `down`."""

    def __init__(self) -> None:
        self.groups: list[dict[str, Any]] = json.loads(
            (FIXTURES / "alertmanager_api_groups.json").read_text()
        )
        self.started = T0 - timedelta(hours=1)
        self.down = False
        self.asked: list[httpx.URL] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url)
        if self.down:
            raise httpx.ConnectError("Connection refused")
        if request.url.path == "/api/v2/alerts/groups":
            return httpx.Response(200, json=self.groups)
        if request.url.path == "/api/v2/status":
            return httpx.Response(200, json={"uptime": self.started.isoformat().replace("+00:00", "Z")})
        return httpx.Response(404)


def poller(engine: Engine, am: ScriptedAlertmanager, clock: Clock, holder: str, **config: Any) -> AlertPoller:
    service = AlertService(engine, Router([], "C0INC"), AlertmanagerClient(None), clock)
    client = AlertmanagerClient(URL, transport=httpx.MockTransport(am))
    settings = PullConfig(url=URL, every=1.0, **{"warmup": 60.0, **config})
    return AlertPoller(service, client, settings, holder=holder)


def groups(engine: Engine) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each stored group by its first label set: its status and its alerts' (instance, status)."""
    with read_scope(engine) as session:
        found = {}
        for group in session.exec(select(AlertGroup).order_by(AlertGroup.id)).all():
            alerts = session.exec(select(Alert).where(Alert.group_id == group.id).order_by(Alert.id)).all()
            shown = [(json.loads(a.labels).get("instance", "-"), a.status) for a in alerts]
            found[json.loads(group.group_labels)["alertname"]] = (group.status, shown)
            assert group.source == PULLED
        return found


def events(engine: Engine) -> list[str]:
    with read_scope(engine) as session:
        return [e.kind for e in session.exec(select(AlertEvent).order_by(AlertEvent.id)).all()]


# -- the lease ------------------------------------------------------------------------------------


def take(engine: Engine, holder: str, now: datetime, seconds: float = 5) -> bool:
    with session_scope(engine) as session:
        return lease.take_lease(session, "default", holder, now, now + timedelta(seconds=seconds))


def test_of_two_pollers_one_holds_the_lease_and_keeps_it_while_it_renews(engine: Engine) -> None:
    assert take(engine, "a", T0)
    assert not take(engine, "b", T0)
    assert take(engine, "a", T0 + timedelta(seconds=4))  # renewed: now until 9 s
    assert not take(engine, "b", T0 + timedelta(seconds=6))
    with read_scope(engine) as session:
        state = lease.state_of(session, "default")
    assert state is not None and state.holder == "a"


def test_a_lease_not_renewed_is_taken_over_and_a_released_one_at_once(engine: Engine) -> None:
    assert take(engine, "a", T0)
    assert take(engine, "b", T0 + timedelta(seconds=5, milliseconds=1))  # a stopped renewing
    assert not take(engine, "a", T0 + timedelta(seconds=6))
    with session_scope(engine) as session:
        lease.release_lease(session, "default", "b")
    assert take(engine, "a", T0 + timedelta(seconds=6))


def test_many_pollers_asking_at_the_same_moment_make_exactly_one_holder(engine: Engine) -> None:
    start = threading.Barrier(6)
    won: list[str] = []

    def ask(holder: str) -> None:
        start.wait()
        if take(engine, holder, T0):
            won.append(holder)

    threads = [threading.Thread(target=ask, args=(f"replica-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1


# -- polls ----------------------------------------------------------------------------------------


def test_a_poll_stores_each_group_as_the_webhook_would_and_repeats_store_nothing(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    assert one.poll_once() == POLLED
    assert groups(engine) == {
        "RetryBurst": ("firing", [("api-1", "firing"), ("api-2", "firing")]),
        "CardDeclines": ("firing", [("-", "firing")]),
    }
    assert events(engine) == ["fired", "fired", "fired"]
    clock.advance(1)
    assert one.poll_once() == POLLED
    assert events(engine) == ["fired", "fired", "fired"]  # nothing changed, nothing new to tell


def test_alerts_and_groups_gone_from_alertmanager_are_resolved(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    one.poll_once()
    am.groups[0]["alerts"] = am.groups[0]["alerts"][:1]  # api-2 resolved
    del am.groups[1]  # CardDeclines resolved entirely
    clock.advance(1)
    assert one.poll_once() == POLLED
    assert groups(engine) == {
        "RetryBurst": ("firing", [("api-1", "firing"), ("api-2", "resolved")]),
        "CardDeclines": ("resolved", [("-", "resolved")]),
    }
    assert events(engine)[3:] == ["resolved", "resolved", "group_resolved"]


def test_a_freshly_started_alertmanager_resolves_nothing_until_its_warmup_passed(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a", warmup=30.0)
    one.poll_once()
    am.groups, am.started = [], clock.now  # restarted, and Prometheus has not sent its alerts again
    clock.advance(29)
    assert one.poll_once() == POLLED
    assert groups(engine)["RetryBurst"][0] == "firing"
    clock.advance(2)
    assert one.poll_once() == POLLED
    assert {status for status, _ in groups(engine).values()} == {"resolved"}


def test_the_replica_without_the_lease_stands_by_and_takes_over_when_the_holder_stops(
    engine: Engine,
) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    first, second = poller(engine, am, clock, "a"), poller(engine, am, clock, "b")
    assert first.poll_once() == POLLED
    asked = len(am.asked)
    assert second.poll_once() == STANDBY and len(am.asked) == asked  # it did not even ask
    clock.advance(5.5)  # `a` stopped renewing (lease: 3 × every, at least 5 s)
    assert second.poll_once() == POLLED
    assert first.poll_once() == STANDBY
    second.stop()  # a clean stop hands over at once
    assert first.poll_once() == POLLED
    assert events(engine) == ["fired", "fired", "fired"]  # three polls by two replicas, told once


def test_an_unreachable_alertmanager_is_shown_logged_once_and_survived(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    status = PullStatus(engine, one.config, clock)
    health = status.health()
    assert health is not None and health.ok and health.detail() == "http://am.test/: not polled yet"
    assert one.poll_once() == POLLED
    am.down = True
    with caplog.at_level(logging.INFO, logger="bot.alerts.poller"):
        for _ in range(3):
            clock.advance(1)
            assert one.poll_once() == FAILED
        health = status.health()
        assert health is not None and not health.ok and not health.required
        assert health.detail().startswith("http://am.test/: unreachable for 2.00 s: GET api/v2/alerts/groups")
        assert groups(engine)["RetryBurst"][0] == "firing"  # an outage resolves nothing
        am.down = False
        clock.advance(1)
        assert one.poll_once() == POLLED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot poll Alertmanager at http://am.test/" in warnings[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)
    health = status.health()
    assert health is not None and health.ok and health.detail() == "http://am.test/: polled 0.00 s ago"


def test_a_poll_nobody_made_for_too_long_is_shown(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    one.poll_once()
    clock.advance(10)
    health = PullStatus(engine, one.config, clock).health()
    assert health is not None and not health.ok
    assert health.detail() == "http://am.test/: no replica has polled for 10.00 s"


def test_the_filter_and_receiver_are_passed_to_alertmanager(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a", filter=['team="db"', "severity=~crit.*"], receiver="iris|pay.*")
    one.poll_once()
    asked = next(u for u in am.asked if u.path == "/api/v2/alerts/groups")
    assert asked.params.get_list("filter") == ['team="db"', "severity=~crit.*"]
    assert asked.params["receiver"] == "iris|pay.*"


def test_without_a_pull_section_there_is_no_check() -> None:
    assert PullStatus(None, None, Clock()).health() is None  # type: ignore[arg-type]


def test_a_closed_poller_polls_no_more_and_records_nothing(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    one.close()
    assert one.poll_once() == STANDBY and am.asked == []
    with read_scope(engine) as session:
        assert lease.state_of(session, "default") is None


def webhook_for(fingerprint: str, status: str, instance: str = "api-1") -> bytes:
    """What Alertmanager's own webhook would send IRIS for RetryBurst on `instance`."""
    alert = {
        "status": status,
        "labels": {"alertname": "RetryBurst", "instance": instance, "severity": "warning"},
        "annotations": {},
        "startsAt": "2026-11-26T08:55:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T09:01:00Z",
        "generatorURL": "",
        "fingerprint": fingerprint,
    }
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="RetryBurst"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "iris",
        "groupLabels": {"alertname": "RetryBurst"},
        "commonLabels": alert["labels"],
        "commonAnnotations": {},
        "externalURL": "http://am.test",
        "alerts": [alert],
    }
    return json.dumps(body).encode()


def test_an_alert_both_polled_and_sent_by_webhook_is_shown_and_logged_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    status = PullStatus(engine, one.config, clock)
    webhook = AlertService(engine, Router([], "C0INC"), AlertmanagerClient(None), clock)
    with caplog.at_level(logging.INFO, logger="bot.alerts.poller"):
        one.poll_once()
        webhook.receive("alertmanager", webhook_for("caaaffbd9ccf039f", "firing"))  # api-1 again
        for _ in range(2):
            clock.advance(1)
            one.poll_once()
        health = status.health()
        assert health is not None and not health.ok and not health.required
        assert health.detail() == (
            "http://am.test/: polled 0.00 s ago, but firing alerts also arrive by webhook and are shown "
            "twice (1): remove IRIS's webhook receiver from Alertmanager, or alerts.pull"
        )
        webhook.receive("alertmanager", webhook_for("caaaffbd9ccf039f", "resolved"))
        clock.advance(1)
        one.poll_once()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "1 alerts polled from http://am.test/ also arrive by webhook, and each is shown twice in Slack: "
        "remove IRIS's webhook receiver from Alertmanager's configuration, or alerts.pull"
    ]
    assert any("no alert arrives both polled and by webhook" in r.getMessage() for r in caplog.records)
    health = status.health()
    assert health is not None and health.ok and health.detail() == "http://am.test/: polled 0.00 s ago"


def test_webhook_alerts_that_are_not_polled_are_no_double(engine: Engine) -> None:
    am, clock = ScriptedAlertmanager(), Clock()
    one = poller(engine, am, clock, "a")
    one.poll_once()
    AlertService(engine, Router([], "C0INC"), AlertmanagerClient(None), clock).receive(
        "alertmanager",
        webhook_for("9a9a9a9a9a9a9a9a", "firing", instance="api-9"),  # not polled
    )
    health = PullStatus(engine, one.config, clock).health()
    assert health is not None and health.ok
