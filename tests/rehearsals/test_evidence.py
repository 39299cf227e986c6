"""Evidence checks over real HTTP against local Prometheus, Elasticsearch and Alertmanager stand-ins."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.rehearsals.evidence import CheckResult, EvidenceChecker, EvidenceReport
from bot.rehearsals.scenario import Evidence
from tests.rehearsals.standins import AlertmanagerStandin, ElasticsearchStandin, PrometheusStandin

T0 = 1_700_000_000.0  # the rehearsal's first run starts here (unix seconds) …
END = T0 + 300  # … and its last run ends here; the window is [T0 − 60, END + 120]
COUNTER = "sum(retry_total)"
SERVICE = {"term": {"service.name": "automation"}}
INDEX = "logs-apm.error-2023.11"  # matched by the checks' pattern logs-apm.error-*


class FakeTime:
    """Stands in for time.sleep and time.time: sleeping advances the clock and is recorded."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def prometheus() -> Iterator[PrometheusStandin]:
    with PrometheusStandin() as standin:
        yield standin


@pytest.fixture
def elasticsearch() -> Iterator[ElasticsearchStandin]:
    with ElasticsearchStandin() as standin:
        yield standin


@pytest.fixture
def alertmanager() -> Iterator[AlertmanagerStandin]:
    with AlertmanagerStandin() as standin:
        yield standin


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(END)


def evidence(*checks: dict[str, Any], attempts: int = 6) -> Evidence:
    return Evidence.model_validate(
        {
            "window": {"pad_before": "1m", "pad_after": "2m"},
            "settle": "30s",
            "poll": {"every": "10s", "attempts": attempts},
            "checks": list(checks),
        }
    )


def prom_check(url: str, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "prom-retries",
        "prometheus": {"url": url, "counter": COUNTER},
        "expect": expect or {"delta_equals": "faults_injected"},
    }


def es_check(url: str, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    source = {"url": url, "index": "logs-apm.error-*", "query": SERVICE}
    return {"id": "apm-errors", "elasticsearch": source, "expect": expect or {"equals": "faults_injected"}}


def alert_check(labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": "incident-alert",
        "alerts": {"labels": labels or {"alertname": "RetryBurst"}},
        "expect": {"at_least": 1},
    }


def checker(
    ev: Evidence, http: httpx.Client, fake_time: FakeTime, alertmanager_url: str | None = None
) -> EvidenceChecker:
    return EvidenceChecker(
        ev, alertmanager_url=alertmanager_url, http=http, sleep=fake_time.sleep, clock=fake_time.clock
    )


def check_one(
    ev: Evidence, http: httpx.Client, fake_time: FakeTime, faults: int, alertmanager_url: str | None = None
) -> CheckResult:
    """The one result of a scenario's only check, without a baseline."""
    return only(checker(ev, http, fake_time, alertmanager_url).check(T0, END, faults))


def iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat().replace("+00:00", "Z")


def errors(service: str, *times: float) -> list[dict[str, Any]]:
    return [{"@timestamp": iso(t), "service": {"name": service}, "message": "upstream 504"} for t in times]


def only(report: EvidenceReport) -> CheckResult:
    assert len(report.results) == 1
    return report.results[0]


def query_times(standin: PrometheusStandin) -> list[float]:
    return [float(request.param("time") or "nan") for request in standin.requests("/api/v1/query")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- agree and disagree --------------------------------------------------------------------------


def test_checks_that_agree_with_the_ledger_all_pass(
    prometheus: PrometheusStandin,
    elasticsearch: ElasticsearchStandin,
    alertmanager: AlertmanagerStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 104), (T0 + 250, 110)])
    elasticsearch.add_documents(INDEX, errors("automation", *[T0 + 10 * i for i in range(10)]))
    alertmanager.add_alert({"alertname": "RetryBurst", "severity": "warning"}, starts_at=T0 + 120)
    ev = evidence(prom_check(prometheus.url), es_check(elasticsearch.url), alert_check())
    rehearsal = checker(ev, http, fake_time, alertmanager.url)

    rehearsal.baseline(T0)
    report = rehearsal.check(T0, END, faults_injected=10)

    assert [(r.id, r.kind, r.ok, r.observed, r.expected) for r in report.results] == [
        ("prom-retries", "prometheus", True, 10, "= 10"),
        ("apm-errors", "elasticsearch", True, 10, "= 10"),
        ("incident-alert", "alerts", True, 1, ">= 1"),
    ]
    assert [r.detail for r in report.results] == [
        "prom-retries: sum(retry_total) rose by 10, expected 10 (faults injected)",
        "apm-errors: 10 matching documents in logs-apm.error-* in the window, expected 10 (faults injected)",
        "incident-alert: 1 alerts with alertname=RetryBurst in the window, expected at least 1",
    ]
    assert not report.unreachable and report.failed == []
    assert fake_time.sleeps == [30.0]  # settled once, and nothing needed asking twice


def test_a_disagreeing_check_fails_naming_what_was_observed_and_expected(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 107)])
    rehearsal = checker(evidence(prom_check(prometheus.url)), http, fake_time)

    rehearsal.baseline(T0)
    report = rehearsal.check(T0, END, faults_injected=10)

    result = only(report)
    assert (result.ok, result.observed, result.expected) == (False, 7, "= 10")
    assert result.detail == "prom-retries: sum(retry_total) rose by 7, expected 10 (faults injected)"
    assert report.failed == [result] and not report.unreachable
    assert fake_time.sleeps == [30.0] + [10.0] * 5  # a disagreement is asked again, six polls in all


def test_the_report_serialises_every_result() -> None:
    results = [
        CheckResult("a", "prometheus", True, 3, "= 3", "a: fine"),
        CheckResult("b", "alerts", None, None, ">= 1", "b: down"),
    ]

    assert EvidenceReport(results).to_json() == {
        "unreachable": True,
        "failed": [],
        "checks": [
            {
                "id": "a",
                "kind": "prometheus",
                "ok": True,
                "observed": 3,
                "expected": "= 3",
                "detail": "a: fine",
            },
            {
                "id": "b",
                "kind": "alerts",
                "ok": None,
                "observed": None,
                "expected": ">= 1",
                "detail": "b: down",
            },
        ],
    }


# ---- Prometheus: a raw delta of two instant queries ----------------------------------------------


def test_the_delta_runs_from_the_baseline_at_the_window_start_to_now(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 110)])
    rehearsal = checker(evidence(prom_check(prometheus.url)), http, fake_time)

    rehearsal.baseline(T0)
    only(rehearsal.check(T0, END, faults_injected=10))

    assert query_times(prometheus) == [T0 - 60, END + 30]  # padded start; after settle, before the pad ends
    assert {request.param("query") for request in prometheus.requests()} == {COUNTER}  # never increase()


def test_without_a_baseline_the_counter_is_read_at_the_window_start(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 - 30, 101), (T0 + 100, 110)])

    result = check_one(evidence(prom_check(prometheus.url)), http, fake_time, 10)

    assert (result.ok, result.observed) == (True, 10)  # the increment 30 s before T0 is inside the pad
    assert query_times(prometheus) == [T0 - 60, END + 30]


def test_the_end_is_read_no_later_than_the_padded_window_end(
    prometheus: PrometheusStandin,
    http: httpx.Client,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 110), (END + 500, 999)])
    late = FakeTime(END + 3600)  # checked an hour after the rehearsal

    result = check_one(evidence(prom_check(prometheus.url)), http, late, 10)

    assert (result.ok, result.observed) == (True, 10)
    assert query_times(prometheus) == [T0 - 60, END + 120]


def test_the_series_of_a_vector_are_summed(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 10), (T0 + 100, 14)], labels={"pod": "a"})
    prometheus.set_counter(COUNTER, [(T0 - 600, 20), (T0 + 100, 26)], labels={"pod": "b"})

    result = check_one(evidence(prom_check(prometheus.url)), http, fake_time, 10)

    assert (result.ok, result.observed) == (True, 10)


def test_a_counter_reset_in_the_window_is_inconclusive_and_not_asked_again(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 3)])  # the service restarted
    rehearsal = checker(evidence(prom_check(prometheus.url)), http, fake_time)

    rehearsal.baseline(T0)
    report = rehearsal.check(T0, END, faults_injected=3)

    result = only(report)
    assert (result.ok, result.observed) == (None, None)
    assert "went down from 100 to 3" in result.detail and "reset" in result.detail
    assert report.unreachable
    assert fake_time.sleeps == [30.0]


# ---- re-polling ----------------------------------------------------------------------------------


def test_a_value_that_arrives_late_passes_on_the_third_poll(
    prometheus: PrometheusStandin,
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    # The scrape lags: the last increments land after the first and second polls (END + 30, END + 40).
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (END + 35, 104), (END + 45, 110)])
    elasticsearch.add_documents(INDEX, errors("automation", T0 + 5))
    ev = evidence(prom_check(prometheus.url), es_check(elasticsearch.url, {"equals": 1}))
    rehearsal = checker(ev, http, fake_time)

    rehearsal.baseline(T0)
    report = rehearsal.check(T0, END, faults_injected=10)

    assert [r.ok for r in report.results] == [True, True]
    assert report.results[0].observed == 10
    assert fake_time.sleeps == [30.0, 10.0, 10.0]  # settle once, then two waits between three polls
    assert query_times(prometheus) == [T0 - 60, END + 30, END + 40, END + 50]
    assert len(elasticsearch.requests()) == 1  # a check that holds is not asked again


def test_a_back_end_that_recovers_between_polls_is_answered(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (T0 + 100, 110)])
    rehearsal = checker(evidence(prom_check(prometheus.url)), http, fake_time)
    rehearsal.baseline(T0)
    prometheus.fail_next(503, times=2)

    result = only(rehearsal.check(T0, END, faults_injected=10))

    assert (result.ok, result.observed) == (True, 10)
    assert fake_time.sleeps == [30.0, 10.0, 10.0]


def test_the_last_answer_is_reported_when_polls_run_out(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 100), (END + 35, 104)])
    rehearsal = checker(evidence(prom_check(prometheus.url), attempts=3), http, fake_time)

    rehearsal.baseline(T0)
    result = only(rehearsal.check(T0, END, faults_injected=10))

    assert (result.ok, result.observed) == (False, 4)
    assert fake_time.sleeps == [30.0, 10.0, 10.0]
    assert len(query_times(prometheus)) == 1 + 3


# ---- faults_injected -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expect", "faults", "ok", "expected", "ending"),
    [
        ({"equals": "faults_injected"}, 3, True, "= 3", "expected 3 (faults injected)"),
        ({"equals": "faults_injected"}, 4, False, "= 4", "expected 4 (faults injected)"),
        ({"equals": 3}, 99, True, "= 3", "expected 3"),
        ({"equals": 2}, 0, False, "= 2", "expected 2"),  # more than expected disagrees too
        ({"at_least": "faults_injected"}, 2, True, ">= 2", "expected at least 2 (faults injected)"),
        ({"at_least": 4}, 0, False, ">= 4", "expected at least 4"),
    ],
)
def test_faults_injected_stands_for_the_rehearsals_count(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
    expect: dict[str, Any],
    faults: int,
    ok: bool,
    expected: str,
    ending: str,
) -> None:
    elasticsearch.add_documents(INDEX, errors("automation", T0, T0 + 1, T0 + 2))

    result = check_one(evidence(es_check(elasticsearch.url, expect), attempts=1), http, fake_time, faults)

    assert (result.ok, result.observed, result.expected) == (ok, 3, expected)
    assert result.detail == f"apm-errors: 3 matching documents in logs-apm.error-* in the window, {ending}"


# ---- Elasticsearch -------------------------------------------------------------------------------


def test_elasticsearch_counts_only_matching_documents_inside_the_padded_window(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    start, end = T0 - 60, END + 120
    elasticsearch.add_documents(INDEX, errors("automation", start - 1, start, T0 + 5, end, end + 1))
    elasticsearch.add_documents(INDEX, errors("billing", T0 + 5, T0 + 6))
    elasticsearch.add_documents("logs-app-2023.11", errors("automation", T0 + 5))  # another index

    result = check_one(evidence(es_check(elasticsearch.url, {"equals": 3})), http, fake_time, 3)

    assert (result.ok, result.observed) == (True, 3)
    [request] = elasticsearch.requests()
    assert (request.method, request.path) == ("POST", "/logs-apm.error-*/_count")
    assert request.body == {
        "query": {
            "bool": {
                "filter": [
                    SERVICE,
                    {
                        "range": {
                            "@timestamp": {
                                "gte": "2023-11-14T22:12:20.000Z",
                                "lte": "2023-11-14T22:20:20.000Z",
                            }
                        }
                    },
                ]
            }
        }
    }


def test_without_a_query_every_document_in_the_window_counts(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    elasticsearch.add_documents(INDEX, errors("automation", T0) + errors("billing", T0, T0 - 3600))
    check = es_check(elasticsearch.url, {"equals": 2})
    del check["elasticsearch"]["query"]

    result = check_one(evidence(check), http, fake_time, 0)

    assert (result.ok, result.observed) == (True, 2)
    assert len(elasticsearch.requests()[0].body["query"]["bool"]["filter"]) == 1  # the time range alone


# ---- Alertmanager --------------------------------------------------------------------------------


def test_alerts_are_filtered_by_every_label_and_counted_inside_the_window(
    alertmanager: AlertmanagerStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    labels = {"alertname": "RetryBurst", "env": "qa"}
    alertmanager.add_alert(labels, starts_at=T0 - 600, ends_at=T0 - 61)  # resolved before the window
    alertmanager.add_alert(labels, starts_at=END + 121)  # fired after the window
    alertmanager.add_alert({"alertname": "RetryBurst", "env": "prod"}, starts_at=T0 + 10)  # other label
    alertmanager.add_alert({"alertname": "DiskFull", "env": "qa"}, starts_at=T0 + 10)
    alertmanager.add_alert(labels, starts_at=T0 - 600, ends_at=T0 + 5)  # overlaps the start
    alertmanager.add_alert(labels, starts_at=T0 + 100, state="silenced")  # firing, silenced

    check = alert_check(labels) | {"expect": {"equals": 2}}
    result = check_one(evidence(check), http, fake_time, 0, alertmanager.url)

    assert (result.ok, result.observed) == (True, 2)
    [request] = alertmanager.requests()
    assert request.query == [("filter", 'alertname="RetryBurst"'), ("filter", 'env="qa"')]


def test_a_label_value_with_quotes_is_escaped_in_the_filter(
    alertmanager: AlertmanagerStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    alertmanager.add_alert({"alertname": "RetryBurst", "summary": 'said "no"'}, starts_at=T0)

    check = alert_check({"summary": 'said "no"'})
    result = check_one(evidence(check), http, fake_time, 0, alertmanager.url)

    assert (result.ok, result.observed) == (True, 1)


def test_no_alert_in_the_window_fails_an_at_least_check(
    alertmanager: AlertmanagerStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    alertmanager.add_alert({"alertname": "RetryBurst"}, starts_at=T0 - 3600, ends_at=T0 - 3000)

    result = check_one(evidence(alert_check(), attempts=2), http, fake_time, 0, alertmanager.url)

    assert (result.ok, result.observed, result.expected) == (False, 0, ">= 1")
    assert result.detail == (
        "incident-alert: 0 alerts with alertname=RetryBurst in the window, expected at least 1"
    )


def test_alerts_without_an_alertmanager_url_are_inconclusive_at_once(
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    report = checker(evidence(alert_check()), http, fake_time, alertmanager_url=None).check(T0, END, 0)

    result = only(report)
    assert result.ok is None and "IRIS_ALERTMANAGER_URL is not set" in result.detail
    assert report.unreachable
    assert fake_time.sleeps == [30.0]  # asking again cannot help


# ---- unreachable and nonsense answers ------------------------------------------------------------


def test_a_stopped_back_end_is_unreachable(http: httpx.Client, fake_time: FakeTime) -> None:
    standin = PrometheusStandin().start()
    url = standin.url
    standin.stop()

    report = checker(evidence(prom_check(url), attempts=2), http, fake_time).check(T0, END, 10)

    result = only(report)
    assert (result.ok, result.observed, result.expected) == (None, None, "= 10")
    assert result.detail == "prom-retries: Prometheus could not be reached (ConnectError)"
    assert report.unreachable and report.failed == []
    assert fake_time.sleeps == [30.0, 10.0]  # a network failure may pass, so it is asked again


def test_a_port_with_nothing_listening_is_unreachable_for_every_kind(
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    ev = evidence(prom_check(nowhere), es_check(nowhere), alert_check(), attempts=1)
    rehearsal = checker(ev, http, fake_time, alertmanager_url=nowhere)

    rehearsal.baseline(T0)  # does not raise either
    report = rehearsal.check(T0, END, 10)

    assert [r.ok for r in report.results] == [None, None, None]
    assert [r.detail for r in report.results] == [
        "prom-retries: Prometheus could not be reached (ConnectError)",
        "apm-errors: Elasticsearch could not be reached (ConnectError)",
        "incident-alert: Alertmanager could not be reached (ConnectError)",
    ]


def test_an_alertmanager_url_without_a_scheme_is_unreachable(http: httpx.Client, fake_time: FakeTime) -> None:
    result = check_one(evidence(alert_check(), attempts=1), http, fake_time, 0, "alertmanager:9093")

    assert result.ok is None
    assert result.detail == "incident-alert: Alertmanager could not be reached (UnsupportedProtocol)"


def test_a_server_that_hangs_up_is_unreachable(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    elasticsearch.set_down()

    result = check_one(evidence(es_check(elasticsearch.url), attempts=1), http, fake_time, 1)

    assert result.ok is None
    assert result.detail == "apm-errors: Elasticsearch could not be reached (RemoteProtocolError)"


def test_a_slow_back_end_times_out_as_unreachable(prometheus: PrometheusStandin, fake_time: FakeTime) -> None:
    prometheus.set_latency(0.3)

    with httpx.Client(timeout=0.05) as impatient:
        result = check_one(evidence(prom_check(prometheus.url), attempts=1), impatient, fake_time, 10)

    assert result.ok is None
    assert result.detail == "prom-retries: Prometheus did not answer within the timeout"


def test_an_error_status_is_unreachable_and_quotes_the_answer(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
) -> None:
    check = es_check(elasticsearch.url) | {"elasticsearch": {"url": elasticsearch.url, "index": "missing"}}

    result = check_one(evidence(check, attempts=1), http, fake_time, 1)

    assert result.ok is None
    assert result.detail.startswith("apm-errors: Elasticsearch answered HTTP 404: ")
    assert "index_not_found_exception" in result.detail


@pytest.mark.parametrize(
    "body",
    [
        "<html>gateway</html>",
        {"status": "error", "error": "boom"},
        {"status": "success", "data": {"resultType": "matrix", "result": []}},
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "many"]}]},
        },
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]},
        },
        {"status": "success", "data": {"resultType": "vector", "result": ["oops"]}},
        [1, 2, 3],
    ],
)
def test_a_malformed_prometheus_answer_is_inconclusive(
    prometheus: PrometheusStandin,
    http: httpx.Client,
    fake_time: FakeTime,
    body: Any,
) -> None:
    prometheus.fail_next(200, body=body)

    result = check_one(evidence(prom_check(prometheus.url), attempts=1), http, fake_time, 1)

    assert (result.ok, result.observed) == (None, None)
    assert result.detail.startswith("prom-retries: Prometheus answered ")


@pytest.mark.parametrize("body", ["not json", {"hits": 3}, {"count": "3"}, {"count": -1}, {"count": True}])
def test_a_malformed_elasticsearch_answer_is_inconclusive(
    elasticsearch: ElasticsearchStandin,
    http: httpx.Client,
    fake_time: FakeTime,
    body: Any,
) -> None:
    elasticsearch.fail_next(200, body=body)

    result = check_one(evidence(es_check(elasticsearch.url), attempts=1), http, fake_time, 1)

    assert result.ok is None and result.detail.startswith("apm-errors: Elasticsearch answered ")


@pytest.mark.parametrize(
    "body",
    [
        {"alerts": []},
        ["an alert"],
        [{"labels": {}, "startsAt": "yesterday", "endsAt": "2030-01-01T00:00:00Z"}],
        [{"labels": {}}],
    ],
)
def test_a_malformed_alertmanager_answer_is_inconclusive(
    alertmanager: AlertmanagerStandin,
    http: httpx.Client,
    fake_time: FakeTime,
    body: Any,
) -> None:
    alertmanager.fail_next(200, body=body)

    result = check_one(evidence(alert_check(), attempts=1), http, fake_time, 1, alertmanager.url)

    assert result.ok is None and result.detail.startswith("incident-alert: Alertmanager answered ")


def test_a_checker_without_a_client_makes_its_own_and_closes_it(
    prometheus: PrometheusStandin,
    fake_time: FakeTime,
) -> None:
    prometheus.set_counter(COUNTER, [(T0 - 600, 0), (T0 + 1, 2)])

    with EvidenceChecker(
        evidence(prom_check(prometheus.url)),
        alertmanager_url=None,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    ) as rehearsal:
        result = only(rehearsal.check(T0, END, 2))

    assert (result.ok, result.observed) == (True, 2)
