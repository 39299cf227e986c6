"""Evidence checks: do Prometheus, Elasticsearch and Alertmanager agree with the rehearsal's ledger?"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, Self
from urllib.parse import quote

import httpx

from bot.rehearsals.scenario import (
    AlertsSource,
    ElasticsearchSource,
    Evidence,
    EvidenceCheck,
    EvidenceExpect,
    PrometheusSource,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0  # seconds per request; a back end slower than that counts as unreachable


@dataclass(frozen=True)
class CheckResult:
    """One check's answer; `ok` is None when its back end could not be reached or answered nonsense."""

    id: str
    kind: str  # prometheus | elasticsearch | alerts
    ok: bool | None
    observed: float | int | None
    expected: str  # such as "= 10" or ">= 1"
    detail: str  # a sentence for a person


@dataclass(frozen=True)
class EvidenceReport:
    results: list[CheckResult]

    @property
    def unreachable(self) -> bool:
        """True when some back end could not answer: the verdict can then only be inconclusive."""
        return any(result.ok is None for result in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        return [result for result in self.results if result.ok is False]

    def to_json(self) -> dict[str, Any]:
        return {
            "unreachable": self.unreachable,
            "failed": [result.id for result in self.failed],
            "checks": [asdict(result) for result in self.results],
        }


class EvidenceUnavailable(Exception):
    """A back end could not be reached or answered nonsense; the message is a sentence for a person.

    `final` means asking again cannot help (a missing setting, a counter reset).
    """

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


class Window(NamedTuple):
    start: float  # unix seconds, padded
    end: float


# ---- the back ends: one small function per question, their errors translated here ---------------


def _request_json(http: httpx.Client, system: str, method: str, url: str, **options: Any) -> Any:
    try:
        answer = http.request(method, url, **options)
    except httpx.TimeoutException:
        raise EvidenceUnavailable(f"{system} did not answer within the timeout") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise EvidenceUnavailable(f"{system} could not be reached ({type(exc).__name__})") from None
    if not answer.is_success:
        said = " ".join(answer.text.split())[:200]
        quoted = f": {said}" if said else ""
        raise EvidenceUnavailable(f"{system} answered HTTP {answer.status_code}{quoted}")
    try:
        return answer.json()
    except ValueError:
        raise EvidenceUnavailable(f"{system} answered something that is not JSON") from None


def prometheus_value(http: httpx.Client, url: str, query: str, at: float) -> float:
    """The instant value of `query` at unix time `at`; the samples of a vector are summed, none is 0."""
    body = _request_json(
        http,
        "Prometheus",
        "GET",
        f"{url.rstrip('/')}/api/v1/query",
        params={"query": query, "time": f"{at:.3f}"},
    )
    data = body.get("data") if isinstance(body, dict) and body.get("status") == "success" else None
    if not isinstance(data, dict):
        raise EvidenceUnavailable("Prometheus answered without a successful result")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return _prometheus_sample(result)
    if kind != "vector" or not isinstance(result, list):
        raise EvidenceUnavailable(f"Prometheus answered a {kind} result; a counter query gives a vector")
    return math.fsum(_prometheus_sample(s.get("value") if isinstance(s, dict) else None) for s in result)


def _prometheus_sample(pair: Any) -> float:
    try:
        value = float(pair[1]) if isinstance(pair, list) and len(pair) == 2 else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise EvidenceUnavailable(f"Prometheus answered a sample that is not a finite number: {pair!r}"[:200])
    return value


def elasticsearch_count(http: httpx.Client, source: ElasticsearchSource, window: Window) -> int:
    """How many documents in `source.index` match its query with an @timestamp inside `window`."""
    in_window = {"range": {"@timestamp": {"gte": _iso(window.start), "lte": _iso(window.end)}}}
    clauses = [source.query, in_window] if source.query else [in_window]
    url = f"{source.url.rstrip('/')}/{quote(source.index, safe='*,')}/_count"
    body = _request_json(http, "Elasticsearch", "POST", url, json={"query": {"bool": {"filter": clauses}}})
    count = body.get("count") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise EvidenceUnavailable("Elasticsearch answered without a document count")
    return count


def alertmanager_alerts(http: httpx.Client, url: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Alertmanager's alerts carrying every label (active, silenced and inhibited alike)."""
    filters = [("filter", f'{name}="{_quoted(value)}"') for name, value in labels.items()]
    body = _request_json(http, "Alertmanager", "GET", f"{url.rstrip('/')}/api/v2/alerts", params=filters)
    if not isinstance(body, list) or not all(isinstance(alert, dict) for alert in body):
        raise EvidenceUnavailable("Alertmanager answered something other than a list of alerts")
    return body


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unix(value: Any, field: str) -> float:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except (ValueError, OverflowError, OSError):
        raise EvidenceUnavailable(f"Alertmanager answered an alert with {field} {value!r}"[:200]) from None


# ---- the checker ---------------------------------------------------------------------------------


class EvidenceChecker:
    """Asks each check's back end, after `settle`, re-polling until the checks hold or attempts run out.

    `baseline(at)` before the first run, `check(start, end, faults_injected)` after the last one;
    times are unix seconds. Pass `http` to share a client (its headers carry any credentials); one
    made here is closed by `close()`.
    """

    def __init__(
        self,
        evidence: Evidence,
        *,
        alertmanager_url: str | None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._evidence = evidence
        self._alertmanager_url = alertmanager_url
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._sleep = sleep
        self._clock = clock
        self._baselines: dict[str, float] = {}

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def baseline(self, at: float) -> None:
        """Remember each Prometheus counter at the window start: `at` (the rehearsal's start) − pad_before."""
        start = at - self._evidence.window.pad_before
        for check in self._evidence.checks:
            if check.prometheus is None:
                continue
            try:
                self._baselines[check.id] = self._counter(check.prometheus, start)
            except EvidenceUnavailable as exc:  # check() asks again for the window start
                log.info("evidence %s: no baseline: %s", check.id, exc)

    def check(self, window_start: float, window_end: float, faults_injected: int) -> EvidenceReport:
        """Wait `settle`, then poll; a check that holds, or can never be answered, is not asked again."""
        padding = self._evidence.window
        window = Window(window_start - padding.pad_before, window_end + padding.pad_after)
        self._sleep(self._evidence.settle)
        latest: dict[str, CheckResult] = {}
        pending = list(self._evidence.checks)
        for poll in range(self._evidence.poll.attempts):
            if poll:
                self._sleep(self._evidence.poll.every)
            pending = [check for check in pending if self._ask_again(check, window, faults_injected, latest)]
            if not pending:
                break
        return EvidenceReport([latest[check.id] for check in self._evidence.checks])

    def _ask_again(
        self, check: EvidenceCheck, window: Window, faults: int, latest: dict[str, CheckResult]
    ) -> bool:
        """Answer `check` into `latest`; True when asking again might change the answer."""
        result, final = self._answer(check, window, faults)
        latest[check.id] = result
        log.debug("evidence %s", result.detail)
        return result.ok is not True and not final

    def _answer(self, check: EvidenceCheck, window: Window, faults: int) -> tuple[CheckResult, bool]:
        op, target, note = _expectation(check.expect, faults)
        expected = f"{op} {target}"
        try:
            observed = self._observe(check, window)
        except EvidenceUnavailable as exc:
            return CheckResult(check.id, check.kind, None, None, expected, f"{check.id}: {exc}"), exc.final
        ok = observed >= target if op == ">=" else observed == target
        wanted = f"at least {target}" if op == ">=" else str(target)
        detail = f"{check.id}: {_describe(check, observed)}, expected {wanted}{note}"
        return CheckResult(check.id, check.kind, ok, observed, expected, detail), False

    def _observe(self, check: EvidenceCheck, window: Window) -> float | int:
        if check.prometheus is not None:
            return self._delta(check.id, check.prometheus, window)
        if check.elasticsearch is not None:
            return elasticsearch_count(self._http, check.elasticsearch, window)
        assert check.alerts is not None  # the scenario allows exactly one source
        return self._alert_count(check.alerts, window)

    def _counter(self, source: PrometheusSource, at: float) -> float:
        return prometheus_value(self._http, source.url, source.counter, at)

    def _delta(self, check_id: str, source: PrometheusSource, window: Window) -> float | int:
        """A raw delta of two instant queries: increase() extrapolates to the window's edges."""
        start = self._baselines.get(check_id)
        if start is None:
            start = self._counter(source, window.start)
        end = self._counter(source, min(self._clock(), window.end))
        if end < start:
            raise EvidenceUnavailable(
                f"{source.counter} went down from {start:g} to {end:g} in the window: "
                "the counter was reset, so its delta cannot be trusted",
                final=True,
            )
        delta = end - start
        return int(delta) if delta.is_integer() else delta

    def _alert_count(self, source: AlertsSource, window: Window) -> int:
        if not self._alertmanager_url:
            raise EvidenceUnavailable(
                "IRIS_ALERTMANAGER_URL is not set, so alerts cannot be checked", final=True
            )
        alerts = alertmanager_alerts(self._http, self._alertmanager_url, source.labels)
        return sum(1 for alert in alerts if self._overlaps(alert, window))

    def _overlaps(self, alert: dict[str, Any], window: Window) -> bool:
        starts = _unix(alert.get("startsAt"), "startsAt")
        ends = alert.get("endsAt")
        ongoing = not ends or (ending := _unix(ends, "endsAt")) >= window.start or ending > self._clock()
        return starts <= window.end and ongoing


def _expectation(expect: EvidenceExpect, faults_injected: int) -> tuple[Literal["=", ">="], int, str]:
    """(operator, target, note): `faults_injected` becomes the rehearsal's count of injected faults."""
    name, target = expect.comparison()
    value = faults_injected if target == "faults_injected" else target
    note = " (faults injected)" if target == "faults_injected" else ""
    return (">=" if name == "at_least" else "="), value, note


def _describe(check: EvidenceCheck, observed: float | int) -> str:
    if check.prometheus is not None:
        return f"{check.prometheus.counter} rose by {observed:g}"
    if check.elasticsearch is not None:
        return f"{observed} matching documents in {check.elasticsearch.index} in the window"
    labels = check.alerts.labels if check.alerts is not None else {}
    listed = ", ".join(f"{name}={value}" for name, value in labels.items())
    return f"{observed} alerts with {listed} in the window"
