"""Groups larger than a group stores, and values as long as a webhook may send (SQLite and PostgreSQL).

Neither Alertmanager nor Grafana retries a 4xx: a mass outage's group must be taken whole, counted,
and keep updating; and no length a payload admits may fail a column or an index on PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import select

from bot.alerts.payload import MAX_NAME, MAX_TEXT, parse_notification
from bot.i18n import Translator
from commands.alerts.views import render_group
from storage import alerts as repo
from storage.alerts import MAX_STORED_ALERTS, Alert, AlertEvent, AlertGroup
from storage.db import read_scope, session_scope
from tests.alerts.test_repo import NOW, ingest, payload

T = Translator("en")


def big(firing: int, resolved: int, *, resolved_first: bool = True) -> dict[str, Any]:
    """One group of `firing` + `resolved` alerts, fingerprints f0…, the resolved ones listed first."""
    data = payload()
    template = data["alerts"][0]
    statuses = ["resolved"] * resolved + ["firing"] * firing
    if not resolved_first:
        statuses.reverse()
    data["alerts"] = [
        {
            **copy.deepcopy(template),
            "fingerprint": f"f{i}",
            "labels": {**template["labels"], "pod": f"p{i}"},
            "status": status,
            "endsAt": "2024-12-12T07:00:30Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        }
        for i, status in enumerate(statuses)
    ]
    return data


def group_row(engine: Engine) -> AlertGroup:
    with read_scope(engine) as session:
        [group] = session.exec(select(AlertGroup)).all()
        return group


def stored(engine: Engine) -> dict[str, str]:
    with read_scope(engine) as session:
        return {a.fingerprint: a.status for a in session.exec(select(Alert))}


def message(engine: Engine) -> str:
    with read_scope(engine) as session:
        [group] = session.exec(select(AlertGroup)).all()
        assert group.id is not None
        text, blocks = render_group(T, group, repo.alerts_of(session, group.id), ZoneInfo("UTC"), NOW)
    return text + json.dumps(blocks, ensure_ascii=False)


def test_a_group_beyond_the_cap_is_taken_whole_stores_firing_first_and_counts_the_rest(
    engine: Engine,
) -> None:
    result = ingest(engine, big(firing=MAX_STORED_ALERTS + 100, resolved=200))
    assert result.alerts == MAX_STORED_ALERTS + 300 and result.omitted == 300
    kept = stored(engine)
    assert len(kept) == MAX_STORED_ALERTS and set(kept.values()) == {"firing"}  # firing ones first
    group = group_row(engine)
    assert (group.omitted_firing, group.omitted_resolved, group.status) == (100, 200, "firing")
    rendered = message(engine)
    assert f"{MAX_STORED_ALERTS + 100} firing, 200 resolved" in rendered
    assert (
        f"…and {MAX_STORED_ALERTS + 290} more alerts: {MAX_STORED_ALERTS - 10} are listed in the thread, "
        "300 are only counted." in rendered
    )
    assert f"IRIS keeps {MAX_STORED_ALERTS} alerts of a group, firing ones first." in rendered


def test_a_repeat_of_a_large_group_writes_nothing(engine: Engine) -> None:
    data = big(firing=MAX_STORED_ALERTS + 50, resolved=0)
    ingest(engine, data)
    with read_scope(engine) as session:
        events_before = session.exec(select(func.count()).select_from(AlertEvent)).one()
    again = ingest(engine, data, at=NOW + timedelta(minutes=5))
    assert not again.changed
    with read_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(AlertEvent)).one() == events_before
    assert group_row(engine).version == 1


def test_later_deliveries_keep_updating_a_large_group_until_it_resolves(engine: Engine) -> None:
    ingest(engine, big(firing=MAX_STORED_ALERTS + 500, resolved=0))
    # The stored thousand resolve while the rest still fire: the group still fires, counted right.
    half = big(firing=500, resolved=MAX_STORED_ALERTS)
    ingest(engine, half, at=NOW + timedelta(minutes=5))
    assert set(stored(engine).values()) == {"resolved"}
    group = group_row(engine)
    assert (group.status, group.omitted_firing, group.omitted_resolved) == ("firing", 500, 0)
    assert f"500 firing, {MAX_STORED_ALERTS} resolved" in message(engine)

    ingest(engine, big(firing=0, resolved=MAX_STORED_ALERTS + 500), at=NOW + timedelta(minutes=10))
    group = group_row(engine)
    assert (group.status, group.omitted_firing, group.omitted_resolved) == ("resolved", 0, 500)
    assert f"0 firing, {MAX_STORED_ALERTS + 500} resolved" in message(engine)
    with read_scope(engine) as session:
        kinds = [e.kind for e in session.exec(select(AlertEvent))]
    assert kinds.count("resolved") == MAX_STORED_ALERTS and kinds.count("group_resolved") == 1


def test_new_alerts_join_while_the_group_has_room_and_are_counted_after(engine: Engine) -> None:
    ingest(engine, big(firing=MAX_STORED_ALERTS - 5, resolved=0))
    ingest(engine, big(firing=MAX_STORED_ALERTS + 5, resolved=0), at=NOW + timedelta(minutes=1))
    assert len(stored(engine)) == MAX_STORED_ALERTS
    assert group_row(engine).omitted_firing == 5
    with read_scope(engine) as session:
        joined = session.exec(select(func.count()).where(AlertEvent.kind == "joined")).one()
    assert joined == 5


def test_alerts_the_sender_left_out_are_counted_and_said(engine: Engine) -> None:
    data = payload()
    data["truncatedAlerts"] = 42
    ingest(engine, data)
    assert group_row(engine).truncated == 42
    rendered = message(engine)
    assert "43 firing" not in rendered  # their status is not known: counted, not called firing
    assert "…and 42 more alerts, only counted. The sender left 42 alerts out of its notification." in rendered


def test_a_100_kb_group_key_is_one_group_delivery_after_delivery(engine: Engine) -> None:
    data = payload()
    data["groupKey"] = "{}/{}:{" + 'alertname="' + "k" * 100_000 + '"}'
    first = ingest(engine, data)
    data["alerts"][0]["status"] = "resolved"
    second = ingest(engine, data, at=NOW + timedelta(minutes=1))
    assert first.group_id == second.group_id and second.changed
    group = group_row(engine)
    assert group.group_key == data["groupKey"] and group.status == "resolved"
    other = copy.deepcopy(data)
    other["groupKey"] = data["groupKey"][:-2] + 'x"}'  # differs only at its end
    assert ingest(engine, other).group_id != first.group_id


def test_the_longest_values_a_payload_admits_are_stored_and_read_back(engine: Engine) -> None:
    data = payload()
    longest = "v" * MAX_TEXT
    name = "n" * MAX_NAME
    alert = data["alerts"][0]
    alert["labels"] |= {name: longest, "alertname": "a" * MAX_TEXT}
    alert["annotations"] |= {name: longest, "summary": longest}
    alert["fingerprint"] = "f" * 64
    alert["generatorURL"] = "https://g.example/" + "u" * (MAX_TEXT - 18)
    data["receiver"] = "r" * MAX_TEXT
    data["externalURL"] = "https://e.example/" + "e" * (MAX_TEXT - 18)
    data["groupLabels"] = data["commonLabels"] = {name: longest, "alertname": "a" * MAX_TEXT}
    data["groupKey"] = "k" * (MAX_TEXT * 3)
    ingest(engine, data)
    alert["status"] = "resolved"
    ingest(engine, data, at=NOW + timedelta(minutes=1))
    with read_scope(engine) as session:
        [row] = session.exec(select(Alert)).all()
        kinds = [e.kind for e in session.exec(select(AlertEvent))]
    assert json.loads(row.labels)[name] == longest and row.status == "resolved"
    assert kinds == ["fired", "resolved", "group_resolved"]
    assert "a" * 150 in message(engine)


def test_nul_and_unpaired_surrogates_are_stored_as_replacement_characters(engine: Engine) -> None:
    raw = json.dumps(payload())
    for field in ('"alertname": "RetryBurst"', '"fingerprint": "1a30ba71cca2921f"'):
        assert field in raw
    raw = raw.replace('"alertname": "RetryBurst"', '"alertname": "Retry\\u0000Burst\\ud800", "\\u0000k": "v"')
    raw = raw.replace('"receiver": "iris"', '"receiver": "ir\\u0000is"')
    raw = raw.replace('"groupKey": "{}', '"groupKey": "\\u0000\\udfff{}')
    note = parse_notification("alertmanager", raw.encode())
    for _ in range(2):  # the same group again: found by the same (replaced) key
        with session_scope(engine) as session:
            repo.ingest(session, note, "C0INC", None, datetime(2024, 12, 12, 7, 1, tzinfo=UTC))
    group = group_row(engine)
    assert group.receiver == "ir\ufffdis" and group.group_key.startswith("\ufffd\ufffd{}")
    assert json.loads(group.group_labels) == {"alertname": "Retry\ufffdBurst\ufffd", "\ufffdk": "v"}
    with read_scope(engine) as session:
        [event] = session.exec(select(AlertEvent)).all()
    assert event.detail == "Retry\ufffdBurst\ufffd"


def test_an_insert_naming_only_the_group_key_gets_its_hash(engine: Engine) -> None:
    """Rows written without ingest (the benchmarks' and tests' fixtures, many at once) are found too."""
    text = {"receiver": "", "group_labels": "{}", "common_labels": "{}", "external_url": ""}
    rows = [
        {"source": "alertmanager", "group_key": key, "channel": "C0INC", "first_seen": NOW, "updated_at": NOW}
        | text
        for key in ("{}:one", "{}:two")
    ]
    built = AlertGroup(source="alertmanager", group_key="{}:three", channel="C0INC", **text).model_dump()
    rows.append({k: v for k, v in built.items() if k != "id"})  # as bench/report.py dumps its objects
    with session_scope(engine) as session:
        session.execute(AlertGroup.__table__.insert(), rows)  # type: ignore[attr-defined]
    with read_scope(engine) as session:
        hashes = [g.group_key_hash for g in session.exec(select(AlertGroup).order_by(AlertGroup.id))]
    assert hashes == [repo.key_hash(key) for key in ("{}:one", "{}:two", "{}:three")]
    data = payload()
    data["groupKey"] = "{}:two"
    assert ingest(engine, data).group_id == 2


def test_a_long_lived_group_forgets_its_oldest_resolved_alerts_to_show_new_ones(engine: Engine) -> None:
    """A group keyed by alertname whose alerts carry pod names meets thousands of alerts over weeks:
    once its first thousand are resolved, a new alert must still be stored, shown and announced."""
    ingest(engine, big(firing=MAX_STORED_ALERTS, resolved=0))
    ingest(engine, big(firing=0, resolved=MAX_STORED_ALERTS), at=NOW + timedelta(minutes=5))
    assert group_row(engine).status == "resolved"
    fresh = big(firing=1, resolved=0)
    fresh["alerts"][0] |= {"fingerprint": "new1", "labels": {**fresh["alerts"][0]["labels"], "pod": "new"}}
    fresh["status"] = "firing"
    result = ingest(engine, fresh, at=NOW + timedelta(days=1))
    assert result.omitted == 0
    kept = stored(engine)
    assert kept["new1"] == "firing" and len(kept) == MAX_STORED_ALERTS and "f0" not in kept  # the oldest went
    group = group_row(engine)
    assert (group.status, group.omitted_firing) == ("firing", 0)
    with read_scope(engine) as session:
        kinds = [e.kind for e in session.exec(select(AlertEvent).where(AlertEvent.fingerprint == "new1"))]
    assert kinds == ["joined"], kinds
    assert "FIRING: RetryBurst — 1 firing, 999 resolved" in message(engine)
