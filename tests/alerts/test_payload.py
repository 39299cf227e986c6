"""Webhook payloads: Alertmanager v4 and Grafana's documented format parse; bad ones name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.alerts.payload import PayloadError, parse_notification

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"


def fixture(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((FIXTURES / name).read_text())


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_alertmanager_v4_payload_parses_with_nanoseconds_and_zero_end() -> None:
    note = parse_notification("alertmanager", body(fixture("alertmanager_firing.json")))
    assert note.group_key == '{}/{severity="critical"}:{alertname="RetryBurst"}'
    assert note.group_labels == {"alertname": "RetryBurst"}
    [alert] = note.alerts
    assert alert.fingerprint == "1a30ba71cca2921f" and alert.status == "firing"
    assert alert.starts_at == datetime(2024, 12, 12, 7, 0, 0, 123456, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.annotations["runbook_url"] == "https://runbooks.example.org/retry-burst"


def test_grafana_firing_payload_parses_both_alerts() -> None:
    note = parse_notification("grafana", body(fixture("grafana_firing.json")))
    assert note.source == "grafana" and note.status == "firing" and note.receiver == "IRIS"
    assert [a.fingerprint for a in note.alerts] == ["c6eadffa33fcdf37", "bc97ff14869b13e3"]
    assert note.alerts[0].starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert note.alerts[0].generator_url.startswith("https://play.grafana.org/alerting/")


def test_grafana_resolved_payload_has_end_times() -> None:
    note = parse_notification("grafana", body(fixture("grafana_resolved.json")))
    assert note.status == "resolved"
    assert all(a.status == "resolved" and a.ends_at is not None for a in note.alerts)


def test_grafana_payload_with_firing_and_resolved_alerts() -> None:
    note = parse_notification("grafana", body(fixture("grafana_multiple.json")))
    assert [a.status for a in note.alerts] == ["resolved", "firing", "firing"]


def test_grafana_payload_without_version_4_is_not_taken_for_alertmanager() -> None:
    with pytest.raises(PayloadError) as error:
        parse_notification("alertmanager", body(fixture("grafana_firing.json")))
    assert error.value.field == "version"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("groupKey"), "groupKey"),
        (lambda d: d.update(alerts={"a": 1}), "alerts"),
        (lambda d: d.update(alerts=[]), "alerts"),
        (lambda d: d.update(status="burning"), "status"),
        (lambda d: d["alerts"][0].update(labels={"severity": 3}), "alerts[0].labels.severity"),
        (lambda d: d["alerts"][0].update(startsAt=1733986800), "alerts[0].startsAt"),
        (lambda d: d["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda d: d["alerts"][0].update(status=None), "alerts[0].status"),
        (lambda d: d.update(truncatedAlerts="many"), "truncatedAlerts"),
        (lambda d: d["alerts"].append("alert"), "alerts[1]"),
    ],
)
def test_wrong_types_are_rejected_naming_the_field(change, field) -> None:  # type: ignore[no-untyped-def]
    data = fixture("alertmanager_firing.json")
    change(data)
    with pytest.raises(PayloadError) as error:
        parse_notification("alertmanager", body(data))
    assert error.value.field == field


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_json_is_rejected(raw: bytes) -> None:
    with pytest.raises(PayloadError) as error:
        parse_notification("grafana", raw)
    assert error.value.field == "body"


def test_any_number_of_alerts_is_taken() -> None:
    data = fixture("alertmanager_firing.json")
    template = data["alerts"][0]
    data["alerts"] = [{**template, "fingerprint": f"{i:016x}"} for i in range(6000)]
    assert len(parse_notification("alertmanager", body(data)).alerts) == 6000


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda d: d.update(truncatedAlerts=2**31),
            "truncatedAlerts",
            "must be an integer from 0 to 2147483647",
        ),
        (
            lambda d: d.update(truncatedAlerts=-1),
            "truncatedAlerts",
            "must be an integer from 0 to 2147483647",
        ),
        (
            lambda d: d["alerts"][0].update(startsAt="9999-12-31T23:00:00-05:00"),
            "alerts[0].startsAt",
            "is outside the years 1 to 9999 in UTC",
        ),
        (
            lambda d: d["alerts"][0]["labels"].update({"n" * 5000: "v"}),
            "alerts[0].labels." + "n" * 100 + "…",
            "is a name longer than 1000 characters",
        ),
        (lambda d: d.update(receiver="r" * 20_001), "receiver", "is longer than 20000 characters"),
    ],
)
def test_values_no_column_could_hold_are_refused_with_a_short_reason(change, field, reason) -> None:  # type: ignore[no-untyped-def]
    data = fixture("alertmanager_firing.json")
    change(data)
    with pytest.raises(PayloadError) as error:
        parse_notification("alertmanager", body(data))
    assert (error.value.field, error.value.reason) == (field, reason)


def test_deeply_nested_json_is_refused_not_a_crash() -> None:
    with pytest.raises(PayloadError) as error:
        parse_notification("grafana", b"[" * 100_000 + b"]" * 100_000)
    assert (error.value.field, error.value.reason) == ("body", "is nested too deeply")


def test_a_group_key_of_any_length_is_taken() -> None:
    data = fixture("alertmanager_firing.json")
    data["groupKey"] = "k" * 200_000
    assert parse_notification("alertmanager", body(data)).group_key == data["groupKey"]
