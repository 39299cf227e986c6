"""Alert repository: grouping, transitions with their times, quiet repeats (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import select

from bot.alerts.payload import parse_notification
from storage import alerts as repo
from storage.alerts import Alert, AlertEvent, AlertGroup
from storage.db import session_scope

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
NOW = datetime(2024, 12, 12, 7, 1, tzinfo=UTC)


def payload(name: str = "alertmanager_firing.json") -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def ingest(
    engine: Engine, data: dict[str, Any], source: str = "alertmanager", at: datetime = NOW
) -> repo.Ingested:
    note = parse_notification(source, json.dumps(data).encode())
    with session_scope(engine) as session:
        return repo.ingest(session, note, "C0INC", None, at)


def events(engine: Engine) -> list[tuple[str | None, str]]:
    with session_scope(engine) as session:
        return [(e.fingerprint, e.kind) for e in session.exec(select(AlertEvent).order_by(AlertEvent.id))]


def second_alert(data: dict[str, Any]) -> dict[str, Any]:
    extra = copy.deepcopy(data["alerts"][0])
    extra["labels"]["instance"] = "api-2:9100"
    extra["fingerprint"] = "2b41cb82ddb3a3f0"
    return extra


def test_a_group_is_stored_once_by_source_and_group_key(engine: Engine) -> None:
    data = payload()
    first = ingest(engine, data)
    data["alerts"].append(second_alert(data))
    second = ingest(engine, data, at=NOW + timedelta(minutes=1))
    assert first.group_id == second.group_id and first.changed and second.changed
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(AlertGroup)).one() == 1
        assert session.exec(select(func.count()).select_from(Alert)).one() == 2
    assert events(engine) == [("1a30ba71cca2921f", "fired"), ("2b41cb82ddb3a3f0", "joined")]


def test_the_same_group_key_from_grafana_is_another_group(engine: Engine) -> None:
    data = payload("grafana_firing.json")
    am = ingest(engine, {**data, "version": "4"}, "alertmanager")
    grafana = ingest(engine, data, "grafana")
    assert am.group_id != grafana.group_id


def test_a_repeat_without_change_writes_nothing(engine: Engine) -> None:
    data = payload()
    ingest(engine, data)
    with session_scope(engine) as session:
        group = session.exec(select(AlertGroup)).one()
        assert repo.claim_version(session, group)
        repo.mark_notified(session, group, repo.unnotified_events(session, group.id or 0), 1)
    data["alerts"][0]["endsAt"] = "2024-12-12T07:09:00Z"  # Prometheus renews a firing alert's end
    repeat = ingest(engine, data, at=NOW + timedelta(hours=4))
    assert not repeat.changed
    with session_scope(engine) as session:
        group = session.exec(select(AlertGroup)).one()
        assert group.dirty is False and repo.as_utc(group.updated_at) == NOW
    assert events(engine) == [("1a30ba71cca2921f", "fired")]


def test_resolve_and_refire_are_recorded_with_their_times(engine: Engine) -> None:
    data = payload()
    ingest(engine, data)
    resolved = copy.deepcopy(data)
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2024-12-12T07:05:00Z"
    ingest(engine, resolved, at=NOW + timedelta(minutes=5))
    refired = copy.deepcopy(data)
    refired["alerts"][0]["startsAt"] = "2024-12-12T07:20:00Z"
    ingest(engine, refired, at=NOW + timedelta(minutes=20))
    assert events(engine) == [
        ("1a30ba71cca2921f", "fired"),
        ("1a30ba71cca2921f", "resolved"),
        (None, "group_resolved"),
        ("1a30ba71cca2921f", "refired"),
    ]
    with session_scope(engine) as session:
        times = [repo.as_utc(e.at) for e in session.exec(select(AlertEvent).order_by(AlertEvent.id))]
        group = session.exec(select(AlertGroup)).one()
    assert times == [NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=5), NOW + timedelta(minutes=20)]
    assert group.status == "firing"


def test_a_refire_between_two_notifications_is_seen_by_its_new_start(engine: Engine) -> None:
    data = payload()
    ingest(engine, data)
    data["alerts"][0]["startsAt"] = "2024-12-12T08:00:00Z"
    assert ingest(engine, data).changed
    assert events(engine)[-1] == ("1a30ba71cca2921f", "refired")


def test_a_rendering_of_an_older_version_cannot_clear_a_newer_change(engine: Engine) -> None:
    data = payload()
    ingest(engine, data)
    with session_scope(engine) as session:
        rendered = session.exec(select(AlertGroup)).one()  # what the notifier drew
    data["alerts"].append(second_alert(data))
    ingest(engine, data)  # a change lands before the notifier queues its messages
    with session_scope(engine) as session:
        assert not repo.claim_version(session, rendered)
        current = session.exec(select(AlertGroup)).one()
        assert current.dirty and repo.claim_version(session, current)
        assert not repo.claim_version(session, current)  # told once only (another replica loses)
