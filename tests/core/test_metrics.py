"""Metrics: outbox figures from the database (or an honest "down"), and every request counted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import cast

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.deps import Deps
from bot.metrics import Metrics
from bot.server import EdgeMiddleware


def _scrape(read_counts: Callable[[], dict[str, int]]) -> str:
    metrics = Metrics()
    metrics.watch_outbox(read_counts)
    return metrics.render().decode()


def test_a_readable_outbox_reports_its_depth_and_up() -> None:
    body = _scrape(lambda: {"pending": 2, "sending": 1, "dead": 4})
    assert "iris_outbox_up 1.0" in body
    assert "iris_outbox_depth 3.0" in body
    assert 'iris_outbox_messages{status="dead"} 4.0' in body


def test_an_unreadable_outbox_reports_down_and_no_depth_at_all() -> None:
    def database_away() -> dict[str, int]:
        raise ConnectionError("database is away")

    body = _scrape(database_away)
    assert "iris_outbox_up 0.0" in body
    assert "iris_outbox_depth" not in body and "iris_outbox_messages{" not in body


def _edge_app(metrics: Metrics) -> EdgeMiddleware:
    async def crash(_: Request) -> Response:
        raise RuntimeError("a bug in a route")

    async def fine(_: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [Route("/readyz", crash, methods=["GET"]), Route("/healthz", fine, methods=["GET"])]
    # The middleware reads nothing from Deps but the metrics.
    return EdgeMiddleware(Starlette(routes=routes), cast(Deps, SimpleNamespace(metrics=metrics)))


async def _request(metrics: Metrics, method: str, path: str) -> int:
    transport = httpx.ASGITransport(app=_edge_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://iris") as client:
        return (await client.request(method, path)).status_code


def _requests_total(metrics: Metrics, route: str, method: str, status: str) -> float | None:
    labels = {"route": route, "method": method, "status": status}
    return metrics.registry.get_sample_value("iris_http_requests_total", labels)


def test_a_request_that_crashes_is_still_counted_as_a_500() -> None:
    metrics = Metrics()
    assert asyncio.run(_request(metrics, "GET", "/readyz")) == 500
    assert _requests_total(metrics, "/readyz", "GET", "500") == 1


def test_unknown_methods_share_one_label() -> None:
    metrics = Metrics()
    assert asyncio.run(_request(metrics, "BREW", "/healthz")) == 405
    assert _requests_total(metrics, "/healthz", "other", "405") == 1
