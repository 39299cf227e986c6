"""The one place IRIS talks to Alertmanager's API v2: silences, alert groups (pull mode), test alerts."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0


class AlertmanagerUnavailable(Exception):
    """Alertmanager is not configured, unreachable, or refused; the message says which, for a log."""


class NoAlertmanager(AlertmanagerUnavailable):
    """IRIS_ALERTMANAGER_URL is not set: nothing can be silenced, however often it is tried."""


class AlertmanagerRefused(AlertmanagerUnavailable):
    """Alertmanager answered, with an error status."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status, self.body = status, body


def matchers_for(labels: dict[str, str]) -> list[dict[str, Any]]:
    """Exact-equality matchers, one per label (API v2's `isEqual` defaults to true when omitted)."""
    return [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(labels.items())
    ]


class AlertmanagerClient:
    """One long-lived httpx client; every error is translated to AlertmanagerUnavailable here."""

    def __init__(self, base_url: str | None, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url or "http://alertmanager.invalid/", timeout=TIMEOUT_S, transport=transport
        )

    @property
    def configured(self) -> bool:
        return self.base_url is not None

    def create_silence(
        self, labels: dict[str, str], starts_at: datetime, ends_at: datetime, *, created_by: str, comment: str
    ) -> str:
        body = {
            "matchers": matchers_for(labels),
            "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        answer = self._call("POST", "api/v2/silences", json=body)
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise AlertmanagerUnavailable("Alertmanager answered a silence without a silenceID")
        return silence_id

    def expire_silence(self, silence_id: str) -> None:
        """Expire it; one Alertmanager no longer knows (restarted without its data, or garbage-collected)
        is as good as expired. Alertmanager 0.25 says so with a 500, later versions with a 404."""
        try:
            self._call("DELETE", f"api/v2/silence/{quote(silence_id, safe='')}")
        except AlertmanagerRefused as exc:
            if exc.status != 404 and "not found" not in exc.body.lower():
                raise
            log.info("silence %s is unknown to Alertmanager; taken as expired", silence_id)

    def silences(self) -> list[dict[str, Any]]:
        answer = self._call("GET", "api/v2/silences")
        return answer if isinstance(answer, list) else []

    def alerts(self, filters: list[str]) -> list[dict[str, Any]]:
        """Alerts matching every `name="value"` filter, with their status (active, suppressed)."""
        answer = self._call("GET", "api/v2/alerts", params=[("filter", f) for f in filters])
        return answer if isinstance(answer, list) else []

    def alert_groups(self, filters: list[str], receiver: str | None) -> Any:
        """API v2's alert groups (as the dispatcher holds them), as decoded JSON: the caller validates."""
        params = [("filter", f) for f in filters] + ([("receiver", receiver)] if receiver else [])
        return self._call("GET", "api/v2/alerts/groups", params=params)

    def status(self) -> Any:
        """API v2's status (version, uptime, cluster), as decoded JSON."""
        return self._call("GET", "api/v2/status")

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        self._call("POST", "api/v2/alerts", json=alerts)

    def _call(self, method: str, path: str, **options: Any) -> Any:
        if self.base_url is None:
            raise NoAlertmanager("IRIS_ALERTMANAGER_URL is not set")
        try:
            response = self._http.request(method, path, **options)
        except httpx.HTTPError as exc:
            raise AlertmanagerUnavailable(f"{method} {path}: {exc!r}") from None
        if response.status_code >= 300:
            body = response.text[:200]
            raise AlertmanagerRefused(
                f"{method} {path}: HTTP {response.status_code} {body}", response.status_code, body
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def close(self) -> None:
        self._http.close()
