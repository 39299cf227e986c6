"""An HTTP fault proxy on loopback: injects a rehearsal's declared faults and forwards the rest upstream."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import random
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from bot.rehearsals.http1 import Headers, Reply, Request, ServerConnection, relay
from bot.rehearsals.ledger import UPSTREAM_UNREACHABLE, Ledger, LedgerEntry
from bot.rehearsals.upstream import UpstreamError, UpstreamPool

try:  # a faster event loop where it exists (not on Windows); the proxy works the same without it
    from uvloop import new_event_loop as _new_event_loop
except ImportError:  # pragma: no cover - uvloop is installed with IRIS wherever it builds
    _new_event_loop = asyncio.new_event_loop  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAX_REQUEST_BODY = 10 * 1024 * 1024
# RFC 9110 §7.6.1, plus the non-standard Proxy-Connection some clients still send.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Framing is recomputed for the body actually sent; a copied length could lie. Host is the upstream's
# own, and Expect is dropped because the body is already read: waiting for a 100 could only stall.
_NOT_RELAYED = HOP_BY_HOP | {"content-length"}
_NOT_FORWARDED = _NOT_RELAYED | {"host", "expect"}
# Long enough for a forwarded call in flight to finish, short enough that stop() cuts fault delays.
_SHUTDOWN_GRACE = 1.0


class MatchSpec(Protocol):
    @property
    def method(self) -> str | None: ...
    @property
    def path(self) -> str: ...


class RespondSpec(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> str: ...


class WhenSpec(Protocol):
    """Exactly one of attempts, probability and every_nth is set."""

    @property
    def attempts(self) -> Sequence[int] | None: ...
    @property
    def probability(self) -> float | None: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def every_nth(self) -> int | None: ...


class FaultSpec(Protocol):
    """What the proxy needs of a fault; `bot.rehearsals.scenario.Fault` satisfies it."""

    @property
    def id(self) -> str: ...
    @property
    def match(self) -> MatchSpec: ...
    @property
    def respond(self) -> RespondSpec: ...
    @property
    def when(self) -> WhenSpec: ...
    @property
    def delay(self) -> float: ...
    def retry_after_seconds(self) -> float | None: ...


def matches(match: MatchSpec, method: str, path: str) -> bool:
    """Method case-insensitively (None is any), path as a case-sensitive fnmatch glob."""
    if match.method is not None and match.method.upper() != method.upper():
        return False
    return fnmatch.fnmatchcase(path, match.path)


def probability_rng(when: WhenSpec, run: int) -> random.Random | None:
    """Seeded `seed + run`, so runs differ but a rehearsal repeats exactly; unseeded when seed is None."""
    if when.probability is None:
        return None
    return random.Random(when.seed + run) if when.seed is not None else random.Random()


def relayed_headers(headers: Mapping[str, str]) -> Headers:
    """A fault's headers minus hop-by-hop ones, those the Connection header names, and Content-Length."""
    return relay(list(headers.items()), _NOT_RELAYED)


@dataclass(frozen=True)
class _Arrival:
    run: int
    fault: FaultSpec | None
    attempt: int | None
    inject: bool
    received_at: float


class FaultProxy:
    """A real HTTP server on its own loop in a daemon thread, so synchronous callers and subprocesses
    can use it. Every request is recorded in `ledger`."""

    def __init__(
        self,
        upstream: str,
        faults: Sequence[FaultSpec],
        ledger: Ledger,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 60.0,
    ) -> None:
        self._upstream = upstream.rstrip("/")
        self._faults = tuple(faults)
        self._ledger = ledger
        self._host = host
        self._port = port
        self._upstream_timeout = upstream_timeout
        # Guards run, counters and RNGs: begin_run comes from the runner's thread.
        self._lock = threading.Lock()
        self._run = 0
        self._attempts: list[int] = []
        self._rngs: list[random.Random | None] = []
        self.begin_run(0)
        self._bound_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._pool: UpstreamPool | None = None
        self._connections: set[ServerConnection] = set()
        self._answering: set[asyncio.Task[None]] = set()
        self._delayed: set[asyncio.Task[object]] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            return self
        sock = socket.create_server((self._host, self._port), backlog=128)
        self._bound_port = sock.getsockname()[1]
        self._loop = _new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name=f"fault-proxy-{self._bound_port}"
        )
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop).result(timeout=10)
        except BaseException:
            sock.close()
            self.stop()
            raise
        log.info(
            "fault proxy on %s forwards to %s with %d faults", self.url, self._upstream, len(self._faults)
        )
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._pool = UpstreamPool(self._upstream, self._upstream_timeout)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ServerConnection(self._handle, MAX_REQUEST_BODY, self._answering, self._connections),
            sock=sock,
        )

    def stop(self) -> None:
        """Close the listening socket, in-flight connections and the upstream client; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=_SHUTDOWN_GRACE + 10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        # A fault's delay can be minutes; nobody waits for its answer once the rehearsal is over.
        for task in self._delayed:
            task.cancel()
        if self._answering:  # a forwarded call in flight gets a moment to finish
            await asyncio.wait(set(self._answering), timeout=_SHUTDOWN_GRACE)
        for task in self._answering:
            task.cancel()
        for connection in list(self._connections):
            connection.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("the fault proxy has not been started")
        return f"http://{self._host}:{self._bound_port}"

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    # -- runs and attempts -----------------------------------------------------------------------

    def begin_run(self, run: int) -> None:
        """Record later requests under `run`, with attempt counters and probability RNGs reset."""
        with self._lock:
            self._run = run
            self._attempts = [0] * len(self._faults)
            self._rngs = [probability_rng(fault.when, run) for fault in self._faults]

    def _arrive(self, method: str, path: str) -> _Arrival:
        # Under the lock, so attempt numbers, RNG draws and received_at all follow arrival order.
        with self._lock:
            received_at = time.monotonic()
            for index, fault in enumerate(self._faults):
                if matches(fault.match, method, path):
                    self._attempts[index] += 1
                    attempt = self._attempts[index]
                    inject = self._decide(index, attempt)
                    return _Arrival(self._run, fault, attempt, inject, received_at)
            return _Arrival(self._run, None, None, False, received_at)

    def _decide(self, index: int, attempt: int) -> bool:
        when = self._faults[index].when
        if when.attempts is not None:
            return attempt in when.attempts
        if when.every_nth is not None:
            return when.every_nth > 0 and attempt % when.every_nth == 0
        rng = self._rngs[index]
        return rng is not None and when.probability is not None and rng.random() < when.probability

    # -- HTTP (runs on the proxy's loop) ---------------------------------------------------------

    async def _handle(self, request: Request) -> Reply:
        arrival = self._arrive(request.method, request.path)
        if arrival.inject and arrival.fault is not None:
            return await self._inject(request, arrival, arrival.fault)
        if request.too_large:
            return self._answer(request, arrival, 413, "request body larger than 10 MiB")
        return await self._forward(request, arrival)

    async def _inject(self, request: Request, arrival: _Arrival, fault: FaultSpec) -> Reply:
        if fault.delay > 0:
            await self._sleep(fault.delay)
        respond = fault.respond
        self._record(request, arrival, respond.status, injected=True, retry_after=fault.retry_after_seconds())
        return Reply(respond.status, relayed_headers(respond.headers), respond.body.encode())

    async def _sleep(self, delay: float) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._delayed.add(task)
        try:
            await asyncio.sleep(delay)
        finally:
            self._delayed.discard(task)

    async def _forward(self, request: Request, arrival: _Arrival) -> Reply:
        assert self._pool is not None, "the fault proxy is not running"
        started = time.monotonic()
        try:
            upstream = await self._pool.send(
                request.method, request.target, relay(request.headers, _NOT_FORWARDED), request.body
            )
        except UpstreamError as exc:
            return self._answer(request, arrival, 502, f"{UPSTREAM_UNREACHABLE}: {exc}")
        latency = time.monotonic() - started
        self._record(request, arrival, upstream.status, upstream_latency=latency)
        # Without a body to measure, the upstream's own length is the truth (RFC 9110 §8.6).
        length = next((value for name, value in upstream.headers if name.lower() == "content-length"), None)
        return Reply(
            upstream.status,
            relay(upstream.headers, _NOT_RELAYED),
            upstream.body,
            reason=upstream.reason,
            content_length=length,
        )

    def _answer(self, request: Request, arrival: _Arrival, status: int, error: str) -> Reply:
        """The proxy's own answer when it cannot forward; `error` goes to the ledger as well."""
        self._record(request, arrival, status, error=error)
        return Reply(
            status, [("Content-Type", "text/plain; charset=utf-8")], f"IRIS fault proxy: {error}".encode()
        )

    def _record(
        self,
        request: Request,
        arrival: _Arrival,
        status: int,
        *,
        injected: bool = False,
        retry_after: float | None = None,
        upstream_latency: float | None = None,
        error: str | None = None,
    ) -> None:
        # Taken last, right before the answer is written.
        self._ledger.record(
            LedgerEntry(
                run=arrival.run,
                fault_id=arrival.fault.id if arrival.fault else None,
                attempt=arrival.attempt,
                method=request.method,
                path=request.path,
                received_at=arrival.received_at,
                responded_at=time.monotonic(),
                status=status,
                injected=injected,
                retry_after=retry_after,
                upstream_latency=upstream_latency,
                error=error,
            )
        )
