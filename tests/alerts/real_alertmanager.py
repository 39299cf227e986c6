"""A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, for the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import free_port

CONFIG = """\
route:
  receiver: iris
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 4s
receivers:
  - name: iris
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def find_binary() -> str | None:
    """IRIS_TEST_ALERTMANAGER (set by scripts/ensure_alertmanager.sh), else the Debian or upstream name."""
    named = os.environ.get("IRIS_TEST_ALERTMANAGER")
    if named and Path(named).exists():
        return named
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@dataclass
class RealAlertmanager:
    binary: str
    workdir: Path
    webhook_url: str
    token: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log(self) -> Path:
        return self.workdir / "alertmanager.log"

    def start(self) -> RealAlertmanager:
        config = self.workdir / "alertmanager.yml"
        config.write_text(CONFIG.format(url=self.webhook_url, token=self.token))
        command = [
            self.binary,
            f"--config.file={config}",
            f"--storage.path={self.workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=info",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"Alertmanager exited:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # start-up polling only
        self.stop()
        raise AssertionError(f"Alertmanager did not become ready:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def fire(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        starts_at: datetime | None = None,
    ) -> None:
        start = starts_at or datetime.now(UTC) - timedelta(seconds=1)
        self._post(
            [
                {
                    "labels": labels,
                    "annotations": annotations or {},
                    "startsAt": start.isoformat(),
                    "generatorURL": "http://prometheus.example.org:9090/graph",
                }
            ]
        )

    def resolve(self, labels: dict[str, str], starts_at: datetime) -> None:
        ended = datetime.now(UTC) - timedelta(milliseconds=500)
        self._post([{"labels": labels, "startsAt": starts_at.isoformat(), "endsAt": ended.isoformat()}])

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Many alerts in one call to Alertmanager's API (each a dict as its /api/v2/alerts takes)."""
        self._post(alerts)

    def _post(self, alerts: list[dict[str, Any]]) -> None:
        answer = httpx.post(self.url + "api/v2/alerts", json=alerts, timeout=10)
        assert answer.status_code == 200, answer.text

    def silences(self) -> list[dict[str, Any]]:
        answer = httpx.get(self.url + "api/v2/silences", timeout=10)
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()
        return found

    def notifications_sent(self) -> float:
        """Alertmanager's own count of webhook notifications attempted."""
        text = httpx.get(self.url + "metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith("alertmanager_notifications_total") and 'integration="webhook"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total
