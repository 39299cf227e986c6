"""The ASGI application: Slack events, health, readiness and metrics on one port."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import __version__
from bot.deps import Deps
from bot.health import Probe
from bot.metrics import CONTENT_TYPE
from bot.slack.request import (
    REMEMBER_REQUESTS_FOR,
    RecentRequests,
    replay_key,
    signature_error,
    to_bolt_request,
)
from commands.feature import MAX_BODY_BYTES, Endpoint
from storage.db import DatabaseUnavailable, check_reachable
from storage.migrate import current_revision, head_revision

log = logging.getLogger(__name__)
CORE_ROUTES = ("/slack/events", "/healthz", "/readyz", "/metrics")
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_server(
    deps: Deps, bolt_app: AsyncApp, endpoints: Sequence[Endpoint] = (), lifespan: Lifespan | None = None
) -> ASGIApp:
    """The routes of `iris serve`: Slack's, health, readiness and metrics, and the features' endpoints."""
    socket_mode = deps.config.settings.socket_mode
    secret = deps.config.settings.slack_signing_secret
    head = head_revision()  # read from the migration scripts once, not on every probe
    recent = RecentRequests(keep_seconds=REMEMBER_REQUESTS_FOR.total_seconds())

    async def slack_events(request: Request) -> Response:
        if socket_mode:
            return _error(404, "This IRIS runs in Socket Mode: Slack events arrive over its WebSocket.")
        body = await request.body()
        # Checked on the raw bytes before anything parses them: nothing unsigned reaches a parser.
        unsigned = signature_error(secret.get_secret_value(), body, request.headers) if secret else None
        if unsigned is not None:
            return _error(401, unsigned)
        try:
            bolt_request = to_bolt_request(
                body, dict(request.headers), {"iris_received": request.scope["iris_received"]}
            )
        except ValueError as exc:
            log.warning("refused a signed but malformed Slack request: %s", exc)
            return _error(400, str(exc))
        key = replay_key(body, bolt_request.body)
        if not recent.first_time(key):
            return _repeated(request.headers)
        bolt_request.context["iris_request_key"] = key  # the job checks it against every replica's
        return to_starlette_response(await bolt_app.async_dispatch(bolt_request))

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(_: Request) -> Response:
        checks = await run_in_threadpool(readiness, deps, head)
        ready = all(check["ok"] or not check.get("required", True) for check in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    async def metrics(_: Request) -> Response:
        return Response(await run_in_threadpool(deps.metrics.render), media_type=CONTENT_TYPE)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *(Route(e.path, e.handler, methods=list(e.methods)) for e in endpoints),
    ]
    limits = {e.path: e.max_body for e in endpoints}
    return EdgeMiddleware(Starlette(routes=routes, lifespan=lifespan), deps, limits)


def readiness(deps: Deps, head: str) -> dict[str, dict[str, Any]]:
    """Database reachable at schema `head`, Slack confirming the token (auth.test), the features' probes."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        check_reachable(deps.engine, deps.config.settings.iris_database_url)
        revision = current_revision(deps.engine)
        ok = revision == head
        checks["database"] = {
            "ok": ok,
            "detail": f"schema {revision}"
            if ok
            else f"schema {revision}, expected {head}: run iris db upgrade",
        }
    except DatabaseUnavailable as exc:
        checks["database"] = {"ok": False, "detail": str(exc)}
    result = deps.identity.check()
    if result.error is None and result.identity is not None:
        checks["slack"] = {"ok": True, "detail": f"authenticated as {result.identity.user_id}"}
    else:
        checks["slack"] = {"ok": False, "detail": result.error}
    for probe in deps.services.all_of(Probe):
        checks.update(_probed(probe))
    return checks


def _probed(probe: Probe) -> dict[str, dict[str, Any]]:
    """A feature's own check; one marked not required is shown without making IRIS unready."""
    try:
        health = probe.health()
    except SQLAlchemyError:  # the database check above says why
        return {}
    if health is None:
        return {}
    optional = {} if health.required else {"required": False}
    return {health.name: {"ok": health.ok, "detail": health.detail(), **optional}}


def _repeated(headers: Mapping[str, str]) -> Response:
    """Slack's own retry of something already handled is a success to Slack (and no more retries);
    the same signed bytes sent again by anyone else are refused, and neither acts twice."""
    retry = headers.get("x-slack-retry-num")
    if retry is not None:
        log.info("ignored Slack's retry #%s of a request already handled", retry[:8])
        return Response(status_code=200, headers={"X-Slack-No-Retry": "1"})
    log.warning("refused a replayed Slack request (the same signed request was already handled)")
    return _error(409, "This Slack request was already handled; a repeated request is not acted on again.")


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


class EdgeMiddleware:
    """Outermost layer: refuses oversized bodies before anything reads them, and counts requests."""

    def __init__(self, app: ASGIApp, deps: Deps, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.deps = deps
        self.limits = limits or {}  # body limits of the features' endpoints, by path
        self.known_routes = frozenset((*CORE_ROUTES, *self.limits))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["iris_received"] = time.perf_counter()
        status = {"code": 500}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            limit = self.limits.get(scope["path"], MAX_BODY_BYTES)
            body = await _read_limited(scope, receive, limit)
            if body is None:
                await _send_json(
                    counting_send, 413, f"The request body is larger than {limit // (1024 * 1024)} MiB."
                )
            else:
                await self.app(scope, _replay(body, receive), counting_send)
        finally:  # a crash is answered 500 and then re-raised by Starlette: it must still count
            self._count(scope, status["code"])

    def _count(self, scope: Scope, status: int) -> None:
        # Labels from the request are bounded, or any client could grow the series without limit.
        route = scope["path"] if scope["path"] in self.known_routes else "other"
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        self.deps.metrics.requests.labels(route, method, str(status)).inc()


async def _read_limited(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it is (or claims to be) over the limit."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the app the body already read, then the real channel (which reports disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send_json(send: Callable[[Message], Awaitable[None]], status: int, reason: str) -> None:
    payload = json.dumps({"error": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
