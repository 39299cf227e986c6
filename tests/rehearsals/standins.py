"""Local stand-ins of Prometheus, Elasticsearch and Alertmanager: real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import re
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import web

from bot.slack_standin.model import status_text

Answer = tuple[int, Any]  # status and a JSON value; a str is sent as it is, not as JSON
_ALERT_TAIL_SECONDS = 300.0  # Alertmanager's resolve_timeout: an ongoing alert's endsAt is now + 5 min


@dataclass(frozen=True)
class Request:
    """One request a stand-in received and the status it answered."""

    method: str
    path: str
    query: list[tuple[str, str]]  # in order, repeated names kept (Alertmanager's `filter`)
    body: Any  # parsed JSON, the raw text when it is not JSON, None when empty
    headers: dict[str, str]
    status: int

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


class _Standin(ABC):
    """A real aiohttp server in its own thread; subclasses add routes and an `_answer`."""

    name = "standin"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._failures: deque[Answer] = deque()
        self._down = False
        self._latency = 0.0
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        started = asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop)
        self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
        self._thread.start()
        started.result(timeout=10)
        return self

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # -- scripting and recording ------------------------------------------------------------------

    def fail_next(self, status: int = 500, *, body: Any = None, times: int = 1) -> None:
        """Answer the next `times` requests with `status` and `body` (default: the status text).

        `fail_next(200, body="<html>")` scripts a malformed answer.
        """
        with self._lock:
            self._failures.extend([(status, status_text(status) if body is None else body)] * times)

    def set_down(self, down: bool = True) -> None:
        """While down, every connection is closed without an answer, as a crashed server would."""
        with self._lock:
            self._down = down

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = seconds

    def requests(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    # -- serving ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        with self._lock:
            down, latency = self._down, self._latency
        if down and request.transport is not None:
            request.transport.close()
            return web.Response()  # never sent: the connection is already gone
        await asyncio.sleep(latency)
        body = _parse_body(raw)
        query = list(request.query.items())
        with self._lock:
            scripted = self._failures.popleft() if self._failures else None
            status, answer = scripted or self._answer(request, query, body)
            headers = dict(request.headers)
            self._requests.append(Request(request.method, request.path, query, body, headers, status))
        if isinstance(answer, str):
            return web.Response(status=status, text=answer)
        return web.json_response(answer, status=status)

    @abstractmethod
    def _answer(self, request: web.Request, query: list[tuple[str, str]], body: Any) -> Answer:
        """What this back end answers to a request that is not scripted to fail."""


def _parse_body(raw: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _rfc3339(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value) / 1000  # Elasticsearch reads bare numbers as epoch milliseconds
    return datetime.fromisoformat(str(value)).timestamp()


# ---- Prometheus ----------------------------------------------------------------------------------


class PrometheusStandin(_Standin):
    """`GET /api/v1/query`: the instant value of each scripted series at `time`, as Prometheus shapes it."""

    name = "prometheus-standin"

    def __init__(self) -> None:
        super().__init__()
        self._series: dict[str, dict[str, tuple[dict[str, str], list[tuple[float, float]]]]] = {}

    def set_counter(
        self, query: str, samples: list[tuple[float, float]], *, labels: dict[str, str] | None = None
    ) -> None:
        """The samples `query` answers from; another `labels` adds a second series to the vector."""
        key = json.dumps(labels or {}, sort_keys=True)
        ordered = sorted((t, float(value)) for t, value in samples)
        with self._lock:
            self._series.setdefault(query, {})[key] = (dict(labels or {}), ordered)

    def _answer(self, request: web.Request, query: list[tuple[str, str]], body: Any) -> Answer:
        params = dict(query)
        if request.path != "/api/v1/query":
            return 404, "404 page not found"
        try:
            at = float(params.get("time") or time.time())
        except ValueError:
            return 400, _prom_error(f"cannot parse {params['time']!r} to a valid timestamp")
        if not params.get("query"):
            return 400, _prom_error("query parameter is missing")
        result = []
        for labels, samples in self._series.get(params["query"], {}).values():
            seen = [value for t, value in samples if t <= at]
            if seen:
                result.append({"metric": labels, "value": [at, _prom_number(seen[-1])]})
        return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


def _prom_error(reason: str) -> dict[str, str]:
    return {"status": "error", "errorType": "bad_data", "error": reason}


def _prom_number(value: float) -> str:
    if value != value:
        return "NaN"
    return str(int(value)) if value.is_integer() else repr(value)


# ---- Elasticsearch -------------------------------------------------------------------------------


class ElasticsearchStandin(_Standin):
    """`POST /{index}/_count` with bool/filter/must, range, term, match and match_all queries."""

    name = "elasticsearch-standin"

    def __init__(self) -> None:
        super().__init__()
        self._indices: dict[str, list[dict[str, Any]]] = {}

    def add_documents(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Store documents (each with an ISO `@timestamp`) in `index`, a concrete index name."""
        with self._lock:
            self._indices.setdefault(index, []).extend(documents)

    def _answer(self, request: web.Request, query: list[tuple[str, str]], body: Any) -> Answer:
        pattern, _, endpoint = request.path.strip("/").rpartition("/")
        if endpoint != "_count" or not pattern:
            return 400, _es_error("illegal_argument_exception", f"no handler for {request.path}", 400)
        missing = [p for p in pattern.split(",") if "*" not in p and p not in self._indices]
        if missing:
            return 404, _es_error("index_not_found_exception", f"no such index [{missing[0]}]", 404)
        clause = body.get("query", {"match_all": {}}) if isinstance(body, dict) else {"match_all": {}}
        documents = [
            doc
            for name, docs in self._indices.items()
            if any(fnmatch.fnmatchcase(name, p) for p in pattern.split(","))
            for doc in docs
        ]
        try:
            count = sum(1 for doc in documents if _matches(doc, clause))
        except (ValueError, TypeError, AttributeError) as exc:
            return 400, _es_error("parsing_exception", str(exc), 400)
        shards = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
        return 200, {"count": count, "_shards": shards}


def _es_error(kind: str, reason: str, status: int) -> dict[str, Any]:
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def _matches(doc: dict[str, Any], clause: dict[str, Any]) -> bool:
    ((kind, spec),) = clause.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        clauses = [c for part in ("filter", "must") for c in _as_list(spec.get(part, []))]
        return all(_matches(doc, c) for c in clauses)
    ((field, condition),) = spec.items()
    value = _field(doc, field)
    if kind == "range":
        return value is not None and _in_range(_parse_time(value), condition)
    if kind in ("term", "match"):
        wanted = condition.get("value", condition.get("query")) if isinstance(condition, dict) else condition
        return value == wanted
    raise ValueError(f"unknown query [{kind}]")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _field(doc: dict[str, Any], path: str) -> Any:
    if path in doc:
        return doc[path]
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _in_range(value: float, bounds: dict[str, Any]) -> bool:
    checks = {
        "gte": lambda b: value >= b,
        "gt": lambda b: value > b,
        "lte": lambda b: value <= b,
        "lt": lambda b: value < b,
    }
    return all(checks[op](_parse_time(bound)) for op, bound in bounds.items() if op in checks)


# ---- Alertmanager --------------------------------------------------------------------------------


_STATES = ("active", "silenced", "inhibited")
_MATCHER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")


@dataclass(frozen=True)
class _Alert:
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None  # None: still firing
    state: str  # active | silenced | inhibited; the latter two are "suppressed" in the API


class AlertmanagerStandin(_Standin):
    """`GET /api/v2/alerts` with Alertmanager's `filter` matchers and its active/silenced/inhibited flags."""

    name = "alertmanager-standin"

    def __init__(self) -> None:
        super().__init__()
        self._alerts: list[_Alert] = []

    def add_alert(
        self,
        labels: dict[str, str],
        starts_at: float,
        ends_at: float | None = None,
        *,
        annotations: dict[str, str] | None = None,
        state: str = "active",
    ) -> None:
        """An alert (unix seconds; no `ends_at` while it fires); state: active, silenced or inhibited."""
        with self._lock:
            self._alerts.append(_Alert(dict(labels), dict(annotations or {}), starts_at, ends_at, state))

    def _answer(self, request: web.Request, query: list[tuple[str, str]], body: Any) -> Answer:
        if request.path != "/api/v2/alerts":
            return 404, "404 page not found"
        try:
            matchers = [_matcher(value) for key, value in query if key == "filter"]
        except ValueError as exc:
            return 400, f"bad matcher format: {exc}"
        flags = {key: value.lower() != "false" for key, value in query if key in _STATES}
        shown = [a for a in self._alerts if all(m(a.labels) for m in matchers) and flags.get(a.state, True)]
        return 200, [_alert_json(a) for a in shown]


def _matcher(text: str) -> Callable[[dict[str, str]], bool]:
    """One Alertmanager matcher such as alertname="RetryBurst" (also !=, =~ and !~)."""
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise ValueError(text)
    name, op, raw = found.groups()
    value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw
    if op in ("=", "!="):
        return lambda labels: (labels.get(name, "") == value) == (op == "=")
    pattern = re.compile(value)
    return lambda labels: (pattern.fullmatch(labels.get(name, "")) is not None) == (op == "=~")


def _alert_json(alert: _Alert) -> dict[str, Any]:
    ends_at = alert.ends_at if alert.ends_at is not None else time.time() + _ALERT_TAIL_SECONDS
    fingerprint = hashlib.sha256(json.dumps(alert.labels, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": _rfc3339(alert.starts_at),
        "endsAt": _rfc3339(ends_at),
        "updatedAt": _rfc3339(alert.starts_at),
        "fingerprint": fingerprint,
        "receivers": [{"name": "default"}],
        "generatorURL": "",
        "status": {
            "state": "active" if alert.state == "active" else "suppressed",
            "silencedBy": ["silence-1"] if alert.state == "silenced" else [],
            "inhibitedBy": ["inhibitor-1"] if alert.state == "inhibited" else [],
        },
    }
