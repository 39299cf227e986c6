"""Pull mode's mapping: Alertmanager's API v2 alert groups become the Notifications a webhook would bring."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.payload import PULLED, IncomingAlert, PayloadError
from bot.alerts.pull import ALERTS, StoredGroup, group_key, polled_notifications, shown_url
from bot.config import ConfigError, load_iris_yml
from tests.alerts.conftest import FIXTURES

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AM = "http://alertmanager:9093"
RETRY_KEY = group_key("iris", {"alertname": "RetryBurst"})


def api_groups() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((FIXTURES / "alertmanager_api_groups.json").read_text())
    return loaded


def firing(fingerprint: str, **labels: str) -> IncomingAlert:
    return IncomingAlert(
        fingerprint, "firing", labels, {}, NOW - timedelta(minutes=5), None, "http://prometheus/graph"
    )


def stored_retry(*alerts: IncomingAlert) -> dict[str, StoredGroup]:
    labels = {"alertname": "RetryBurst"}
    return {RETRY_KEY: StoredGroup(RETRY_KEY, "iris", labels, labels, list(alerts))}


def test_each_api_group_becomes_the_notification_a_webhook_would_bring() -> None:
    polled = polled_notifications(api_groups(), {}, AM, NOW, resolve_absent=True)
    assert polled.problems == []
    retry, cards = polled.notifications
    assert (retry.source, retry.group_key, retry.receiver, retry.status) == (
        PULLED,
        '"iris":{alertname="RetryBurst"}',
        "iris",
        "firing",
    )
    assert retry.group_labels == {"alertname": "RetryBurst"}
    assert retry.common_labels == {"alertname": "RetryBurst", "severity": "warning"}
    assert retry.external_url == AM
    one, two = retry.alerts
    assert one.fingerprint == "caaaffbd9ccf039f" and one.status == "firing"
    assert one.labels == {"alertname": "RetryBurst", "instance": "api-1", "severity": "warning"}
    assert one.annotations["summary"] == "Retries above 5% on api-1"
    assert one.starts_at == datetime(2026, 11, 26, 8, 58, tzinfo=UTC)
    assert one.ends_at == datetime(2026, 11, 26, 9, 5, 0, 92531, tzinfo=UTC)  # nanoseconds cut to micro
    assert one.generator_url == "http://prometheus.example.org:9090/graph?g0.expr=retries"
    assert two.status == "firing"  # silenced in Alertmanager, still firing: IRIS shows silences itself
    assert (cards.receiver, cards.group_key) == ("payments", group_key("payments", cards.group_labels))
    assert [a.status for a in cards.alerts] == ["firing"]  # unprocessed is firing too


def test_the_group_key_is_stable_and_tells_receivers_and_label_sets_apart() -> None:
    assert group_key("iris", {"b": "2", "a": "1"}) == group_key("iris", {"a": "1", "b": "2"})
    assert group_key("iris", {"a": "1"}) != group_key("other", {"a": "1"})
    assert group_key('a":{x', {}) != group_key("a", {"x": ""})  # the receiver is quoted: no collision


def test_a_stored_alert_absent_from_its_group_is_resolved() -> None:
    gone = firing("deadbeef00000001", alertname="RetryBurst", instance="api-3")
    polled = polled_notifications(api_groups(), stored_retry(gone), AM, NOW, resolve_absent=True)
    retry = polled.notifications[0]
    resolved = [a for a in retry.alerts if a.fingerprint == gone.fingerprint]
    assert [(a.status, a.ends_at, a.labels) for a in resolved] == [("resolved", NOW, gone.labels)]
    assert retry.status == "firing"  # the two reported alerts still fire


def test_a_stored_group_absent_from_the_poll_resolves_entirely() -> None:
    one = firing("deadbeef00000001", alertname="RetryBurst", instance="api-1")
    two = firing("deadbeef00000002", alertname="RetryBurst", instance="api-2")
    polled = polled_notifications([], stored_retry(one, two), AM, NOW, resolve_absent=True)
    [note] = polled.notifications
    assert (note.source, note.group_key, note.status) == (PULLED, RETRY_KEY, "resolved")
    assert [(a.fingerprint, a.status) for a in note.alerts] == [
        ("deadbeef00000001", "resolved"),
        ("deadbeef00000002", "resolved"),
    ]


def test_while_alertmanager_warms_up_nothing_is_resolved_for_being_absent() -> None:
    gone = firing("deadbeef00000001", alertname="RetryBurst", instance="api-3")
    polled = polled_notifications([], stored_retry(gone), AM, NOW, resolve_absent=False)
    assert polled.notifications == []
    polled = polled_notifications(api_groups(), stored_retry(gone), AM, NOW, resolve_absent=False)
    assert all(a.status == "firing" for a in polled.notifications[0].alerts)


def test_an_alert_whose_end_has_passed_is_resolved() -> None:
    groups = api_groups()
    for alert in groups[1]["alerts"]:
        alert["endsAt"] = "2026-11-26T08:59:59Z"
    cards = polled_notifications(groups, {}, AM, NOW, resolve_absent=True).notifications[1]
    assert cards.status == "resolved" and [a.status for a in cards.alerts] == ["resolved"]


def test_a_group_described_wrongly_is_left_out_named_and_resolves_nothing() -> None:
    groups = api_groups()
    broken = copy.deepcopy(groups[1])
    broken["alerts"][0]["startsAt"] = "yesterday"
    absent = {"k": StoredGroup("k", "iris", {"alertname": "Other"}, {}, [firing("f1", alertname="Other")])}
    polled = polled_notifications([groups[0], broken], absent, AM, NOW, resolve_absent=True)
    assert [n.group_key for n in polled.notifications] == [RETRY_KEY]
    assert len(polled.problems) == 1 and "alerts[0].startsAt" in polled.problems[0]
    polled = polled_notifications([groups[0], {"labels": {}}], absent, AM, NOW, resolve_absent=True)
    assert polled.problems == ["groups[1]: needs receiver.name, labels and alerts"]
    assert [n.group_key for n in polled.notifications] == [RETRY_KEY]  # "k" stays firing


def test_an_alert_that_is_not_an_object_leaves_its_group_out_and_the_poll_goes_on() -> None:
    groups = api_groups()
    broken = {**copy.deepcopy(groups[1]), "alerts": ["not an alert"]}
    polled = polled_notifications([groups[0], broken, broken], {}, AM, NOW, resolve_absent=True)
    assert [n.group_key for n in polled.notifications] == [RETRY_KEY]
    assert len(polled.problems) == 1 and "alerts[0]" in polled.problems[0]


def test_an_answer_that_is_not_a_list_of_groups_is_refused() -> None:
    with pytest.raises(PayloadError, match="list of alert groups"):
        polled_notifications({"error": "x"}, {}, AM, NOW, resolve_absent=True)


def test_one_group_under_two_routes_is_one_notification_with_each_alert_once() -> None:
    groups = api_groups()
    again = copy.deepcopy(groups[0])
    again["alerts"] = again["alerts"][:1]
    polled = polled_notifications([groups[0], again], {}, AM, NOW, resolve_absent=True)
    [retry] = polled.notifications
    assert len(retry.alerts) == 2


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "iris.yml"
    path.write_text(text)
    return path


def test_the_pull_section_reads_durations_filters_and_normalises_the_url(tmp_path: Path) -> None:
    text = 'alerts:\n  pull: {url: "http://am:9093", every: 1m30s, filter: [\'team="db"\', "sev=~crit.*"]}\n'
    _, sections = load_iris_yml(write(tmp_path, text), [ALERTS])
    pull = sections["alerts"].pull
    assert (pull.url, pull.every, pull.filter, pull.warmup) == (
        "http://am:9093/",
        90.0,
        ['team="db"', "sev=~crit.*"],
        120.0,
    )
    _, sections = load_iris_yml(None, [ALERTS])
    assert sections["alerts"].pull is None  # no section: webhooks only


@pytest.mark.parametrize(
    ("pull", "said"),
    [
        ("{url: am:9093}", "alerts.pull.url: must be an http:// or https:// URL"),
        ("{url: 'http://am', every: 0s}", "alerts.pull.every: must be from 1s to 1h"),
        ("{url: 'http://am', every: soon}", "alerts.pull.every: 'soon' is not a duration"),
        ("{url: 'http://am', filter: ['team']}", "alerts.pull.filter: 'team' is not a matcher"),
        ("{url: 'http://am', evry: 5s}", "alerts.pull.evry: "),
    ],
)
def test_a_wrong_pull_section_stops_iris_with_one_sentence_naming_it(
    tmp_path: Path, pull: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_iris_yml(write(tmp_path, f"alerts:\n  pull: {pull}\n"), [ALERTS])
    assert str(caught.value).startswith(f"iris.yml: {said}")
    assert "\n" not in str(caught.value)


def test_a_url_is_shown_without_its_credentials() -> None:
    assert shown_url("https://bot:s3cret@am.example.org/") == "https://am.example.org/"
    assert shown_url("http://am:9093/") == "http://am:9093/"
