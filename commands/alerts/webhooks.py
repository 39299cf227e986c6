"""The alerts' HTTP face: POST /alerts/alertmanager and /alerts/grafana; bearer token, validation, store."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.alerts.payload import PayloadError
from bot.alerts.service import AlertService
from commands.feature import Endpoint

log = logging.getLogger(__name__)
ALERT_PATHS = {"/alerts/alertmanager": "alertmanager", "/alerts/grafana": "grafana"}
MAX_ALERT_BODY_BYTES = 5 * 1024 * 1024


def token_accepted(header: str | None, token: SecretStr) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    expected = token.get_secret_value().encode()
    # An empty IRIS_ALERT_TOKEN (a blank line in .env) would otherwise admit a bare "Bearer".
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected)


def alert_endpoints(service: AlertService, token: SecretStr | None) -> list[Endpoint]:
    def endpoint(source: str) -> Callable[[Request], Awaitable[Response]]:
        async def receive(request: Request) -> Response:
            if token is None or not token.get_secret_value():
                return _error(503, "Alert webhooks are off: IRIS_ALERT_TOKEN is not set on this IRIS.")
            if not token_accepted(request.headers.get("authorization"), token):
                return _error(401, "Missing or wrong bearer token (Authorization: Bearer $IRIS_ALERT_TOKEN).")
            body = await request.body()
            try:
                result = await run_in_threadpool(service.receive, source, body)
            except PayloadError as exc:  # one line, no traceback: the sender is misconfigured, not IRIS
                log.warning("refused a %s webhook: %s %s", source, exc.field, exc.reason)
                reason = {"error": f"{exc.field} {exc.reason}", "field": exc.field}
                return JSONResponse(reason, status_code=400)
            answer = {"status": "stored", "group": result.group_id, "alerts": result.alerts}
            return JSONResponse({**answer, "only_counted": result.omitted})

        return receive

    return [
        Endpoint(path, endpoint(source), max_body=MAX_ALERT_BODY_BYTES)
        for path, source in ALERT_PATHS.items()
    ]


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)
