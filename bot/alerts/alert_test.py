"""`alert-test`: synthetic alerts sent through the real alert path, each case timed until Slack shows it.

With IRIS_ALERTMANAGER_URL the alerts go to Alertmanager's API, so its routing and grouping are part
of the test; otherwise they enter through IRIS's own webhook intake. Every test alert carries
`iris_alert_test=<run id>`, and everything is resolved (and the silence expired) at the end.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.alerts.alertmanager import AlertmanagerUnavailable
from bot.alerts.service import AlertService
from bot.i18n import N_
from storage import alerts as repo
from storage.alerts import AlertGroup
from storage.audit import Audit
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
QUIET_SECONDS = 5.0  # how long a silenced alert must stay away from IRIS


@dataclass(frozen=True)
class CaseResult:
    key: str  # an English message id naming the case; translated where shown
    outcome: str  # pass | fail | skip
    seconds: float | None = None
    detail: str = ""  # an English message id with {placeholders}, translated where shown
    values: dict[str, str] = field(default_factory=dict)


class Busy(Exception):
    """An alert test is already running."""


class ShuttingDown(Exception):
    """IRIS is stopping: no alert test starts in this process any more."""


class AlertTest:
    """One run of the default suite; `cases()` runs them in order and always cleans up."""

    def __init__(
        self,
        service: AlertService,
        *,
        timeout: float,
        second_route: dict[str, str] | None,
        second_channel: str | None,
        stop: threading.Event,
        reply_to: str = "",
    ) -> None:
        self.service, self.timeout, self.stop = service, timeout, stop
        self.second_route, self.second_channel = second_route, second_channel
        self.run_id = secrets.token_hex(4)
        self.reply_to = reply_to  # where the results go: opaque here, the reporter knows
        self.via_alertmanager = service.alertmanager.configured
        self._sent: dict[str, dict[str, Any]] = {}  # key → the alert as last sent
        self._silence: str | None = None

    def labels(self, group: str, instance: str = "a") -> dict[str, str]:
        return {
            "alertname": f"IrisAlertTest{group}",
            "iris_alert_test": self.run_id,
            "iris_alert_case": group,
            "instance": instance,
            "severity": "info",
        }

    def run(self) -> list[CaseResult]:
        steps: list[tuple[str, Callable[[], CaseResult]]] = [
            ("a single alert fires", self.fires),
            ("a second alert joins the group", self.joins),
            ("one alert resolves", self.one_resolves),
            ("the group resolves", self.group_resolves),
            ("it re-fires after resolving", self.refires),
            ("a label routes it to a second channel", self.routes),
            ("a silence suppresses the next notification", self.silenced),
            ("a 120-alert group renders within Slack's limits", self.large),
        ]
        results = []
        try:
            for key, step in steps:
                results.append(self._timed(key, step))
        finally:
            self.clean_up()
        return results

    def _timed(self, key: str, step: Callable[[], CaseResult]) -> CaseResult:
        started = time.monotonic()
        try:
            result = step()
        except AlertmanagerUnavailable as exc:
            return CaseResult(
                key, "fail", detail=N_("Alertmanager failed: {reason}"), values={"reason": str(exc)}
            )
        seconds = None if result.outcome == "skip" else round(time.monotonic() - started, 2)
        return CaseResult(key, result.outcome, seconds, result.detail, result.values)

    # -- the cases ------------------------------------------------------------------------------

    def fires(self) -> CaseResult:
        self.send([("a", "Lifecycle", "firing")])
        return self.until("Lifecycle", lambda g, alerts: g.status == "firing" and len(alerts) == 1)

    def joins(self) -> CaseResult:
        first = self._group("Lifecycle")
        self.send([("a", "Lifecycle", "firing"), ("b", "Lifecycle", "firing")])
        return self.until(
            "Lifecycle",
            lambda g, alerts: len(alerts) == 2 and first is not None and g.message_id == first.message_id,
        )

    def one_resolves(self) -> CaseResult:
        self.send([("a", "Lifecycle", "resolved"), ("b", "Lifecycle", "firing")])
        return self.until(
            "Lifecycle", lambda g, alerts: sorted(a.status for a in alerts) == ["firing", "resolved"]
        )

    def group_resolves(self) -> CaseResult:
        self.send([("a", "Lifecycle", "resolved"), ("b", "Lifecycle", "resolved")])
        return self.until("Lifecycle", lambda g, _: g.status == "resolved")

    def refires(self) -> CaseResult:
        self.send([("a", "Lifecycle", "firing")], fresh_start=True)
        return self.until("Lifecycle", lambda g, alerts: g.status == "firing")

    def routes(self) -> CaseResult:
        if self.second_route is None:
            return CaseResult("", "skip", detail=N_("no route in iris.yml has equality matchers only"))
        self.send([("a", "Routed", "firing")], extra=self.second_route)
        return self.until("Routed", lambda g, _: g.channel == self.second_channel)

    def silenced(self) -> CaseResult:
        if not self.via_alertmanager:
            return CaseResult("", "skip", detail=N_("needs IRIS_ALERTMANAGER_URL"))
        labels = self.labels("Silenced")
        now = datetime.now(UTC)
        self._silence = self.service.alertmanager.create_silence(
            labels,
            now,
            now + timedelta(minutes=30),
            created_by="iris alert-test",
            comment=f"IRIS alert-test {self.run_id}",
        )
        self.send([("a", "Silenced", "firing")])
        started, suppressed = time.monotonic(), False
        while not self.stop.is_set():
            if self._group("Silenced") is not None:
                return CaseResult("", "fail", detail=N_("the silenced alert reached IRIS"))
            suppressed = suppressed or self._suppressed(labels)
            elapsed = time.monotonic() - started
            if suppressed and elapsed >= QUIET_SECONDS:
                return CaseResult("", "pass")
            if elapsed >= self.timeout:
                break
            time.sleep(POLL_SECONDS)
        return CaseResult("", "fail", detail=N_("Alertmanager never reported it suppressed"))

    def _suppressed(self, labels: dict[str, str]) -> bool:
        filters = [f'{k}="{v}"' for k, v in labels.items()]
        return any(
            a.get("status", {}).get("state") == "suppressed"
            for a in self.service.alertmanager.alerts(filters)
        )

    def large(self) -> CaseResult:
        self.send([(f"n{i:03d}", "Large", "firing") for i in range(120)])
        return self.until("Large", lambda g, alerts: len(alerts) == 120)

    # -- sending and waiting --------------------------------------------------------------------

    def send(
        self,
        alerts: list[tuple[str, str, str]],
        *,
        fresh_start: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        items = []
        for instance, group, status in alerts:
            key = f"{group}/{instance}"
            previous = self._sent.get(key)
            starts = now if fresh_start or previous is None else previous["startsAt"]
            labels = {**self.labels(group, instance), **(extra or {})}
            item = {
                "labels": labels,
                "startsAt": starts,
                "status": status,
                "annotations": {"summary": f"IRIS alert-test {self.run_id}: {group} {instance}"},
            }
            self._sent[key] = item
            items.append(item)
        if self.via_alertmanager:
            self.service.alertmanager.post_alerts([_for_alertmanager(i, now) for i in items])
        else:
            self.service.receive("alertmanager", _webhook_body(self.run_id, alerts[0][1], items))

    def until(self, group: str, done: Callable[[AlertGroup, list[Any]], bool]) -> CaseResult:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            with read_scope(self.service.engine) as session:
                found = self._group_in(session, group)
                if found is not None and found.id is not None:
                    alerts = repo.alerts_of(session, found.id)
                    if done(found, alerts) and repo.settled(session, found):
                        return CaseResult("", "pass")
            time.sleep(POLL_SECONDS)
        return CaseResult(
            "",
            "fail",
            detail=N_("not shown in Slack within {seconds} s"),
            values={"seconds": f"{self.timeout:.0f}"},
        )

    def _group(self, group: str) -> AlertGroup | None:
        with read_scope(self.service.engine) as session:
            return self._group_in(session, group)

    def _group_in(self, session: Any, group: str) -> AlertGroup | None:
        wanted = {"iris_alert_case": group, "iris_alert_test": self.run_id}
        return repo.find_group_with_labels(session, wanted)

    def clean_up(self) -> None:
        """Resolve every test alert still firing and expire the silence; failures are only logged."""
        firing = [item for item in self._sent.values() if item["status"] == "firing"]
        try:
            if self._silence is not None:
                self.service.alertmanager.expire_silence(self._silence)
            for item in firing:
                item["status"] = "resolved"
            by_group: dict[str, list[dict[str, Any]]] = {}
            for item in firing:
                by_group.setdefault(item["labels"]["iris_alert_case"], []).append(item)
            for name, items in by_group.items():
                if self.via_alertmanager:
                    now = datetime.now(UTC)
                    self.service.alertmanager.post_alerts([_for_alertmanager(i, now) for i in items])
                else:
                    self.service.receive("alertmanager", _webhook_body(self.run_id, name, items))
        except Exception:
            log.exception("alert-test %s: cleaning up failed; its alerts resolve on their own", self.run_id)


def _for_alertmanager(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    body = {
        "labels": item["labels"],
        "annotations": item["annotations"],
        "startsAt": item["startsAt"].isoformat(),
    }
    if item["status"] == "resolved":
        body["endsAt"] = now.isoformat()
    return body


def _webhook_body(run_id: str, group: str, items: list[dict[str, Any]]) -> bytes:
    """What Alertmanager would send for this group: IRIS's own intake takes exactly that."""
    name = f"IrisAlertTest{group}"
    alerts = [
        {
            "status": i["status"],
            "labels": i["labels"],
            "annotations": i["annotations"],
            "startsAt": i["startsAt"].isoformat(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "",
        }
        for i in items
    ]
    firing = any(i["status"] == "firing" for i in items)
    return json.dumps(
        {
            "version": "4",
            "receiver": "iris-alert-test",
            "status": "firing" if firing else "resolved",
            "groupKey": f'{{}}:{{alertname="{name}", iris_alert_test="{run_id}"}}',
            "alerts": alerts,
            "groupLabels": {"alertname": name, "iris_alert_test": run_id},
            "commonLabels": {k: v for k, v in items[0]["labels"].items() if k != "instance"},
            "externalURL": "",
            "truncatedAlerts": 0,
        }
    ).encode()


class Reporter(Protocol):
    """The alert test's port: who hears the results (commands/alerts implements it for Slack)."""

    def results(self, test: AlertTest, results: list[CaseResult]) -> None: ...


class AlertTester:
    """Runs one alert test at a time on its own thread; `close()` ends a run's waits at shutdown."""

    def __init__(
        self,
        service: AlertService,
        reporter: Reporter,
        second_route: dict[str, str] | None,
        second_channel: str | None,
    ) -> None:
        self.service = service
        self.reporter = reporter
        self.second_route, self.second_channel = second_route, second_channel
        self._stop = threading.Event()
        self._running = threading.Lock()

    def start(self, timeout: float, audit: Audit, reply_to: str) -> AlertTest:
        """Start a run (audited); Busy while one runs. `reply_to` tells the reporter where the results go."""
        if self._stop.is_set():
            raise ShuttingDown()
        if not self._running.acquire(blocking=False):
            raise Busy()
        try:
            test = AlertTest(
                self.service,
                timeout=timeout,
                second_route=self.second_route,
                second_channel=self.second_channel,
                stop=self._stop,
                reply_to=reply_to,
            )
            via = "alertmanager" if test.via_alertmanager else "webhook"
            with session_scope(self.service.engine) as session:
                repo.start_test_run(session, test.run_id, audit.actor.user_id, via, self.service.clock())
                audit.record(session, test.run_id, timeout=timeout)
            thread = threading.Thread(
                target=self._run, args=(test,), name=f"iris-alert-test-{test.run_id}", daemon=True
            )
            thread.start()
        except BaseException:
            self._running.release()
            raise
        return test

    def _run(self, test: AlertTest) -> None:
        try:
            results = test.run()
            with session_scope(self.service.engine) as session:
                repo.finish_test_run(session, test.run_id, [asdict(r) for r in results], self.service.clock())
            self.reporter.results(test, results)
        except Exception:
            log.exception("alert-test %s crashed", test.run_id)
        finally:
            self._running.release()

    def close(self) -> None:
        self._stop.set()
