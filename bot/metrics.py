"""Prometheus metrics, on a registry of IRIS's own so a test can build a second app."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class _OutboxCollector(Collector):
    """Reads the outbox at scrape time, so the figures are the database's, not a guess."""

    def __init__(self, read_counts: Callable[[], dict[str, int]]) -> None:
        self._read_counts = read_counts

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._read_counts()
        except Exception:  # a scrape must not fail because the database is briefly away
            # No depth at all rather than a depth of 0: "empty" and "unknown" must not look alike.
            yield _outbox_up(False)
            return
        yield _outbox_up(True)
        family = GaugeMetricFamily("iris_outbox_messages", "Outbox messages by status", labels=["status"])
        for status in ("pending", "sending", "dead"):
            family.add_metric([status], counts.get(status, 0))
        yield family
        depth = counts.get("pending", 0) + counts.get("sending", 0)
        yield GaugeMetricFamily("iris_outbox_depth", "Messages waiting to reach Slack", value=depth)


def _outbox_up(up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "iris_outbox_up", "1 when the outbox could be read at this scrape", value=1 if up else 0
    )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "iris_http_requests",
            "HTTP requests served",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.command_latency = Histogram(
            "iris_command_ack_seconds",
            "Time from receiving a slash command to acknowledging it",
            ["subcommand"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.slack_calls = Counter(
            "iris_slack_api_calls", "Slack Web API calls", ["method", "result"], registry=self.registry
        )
        self.jobs = Counter("iris_jobs", "Background jobs run", ["name", "result"], registry=self.registry)

    def watch_outbox(self, read_counts: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_OutboxCollector(read_counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
