"""The fault proxy's client to the upstream: pooled keep-alive HTTP/1.1 connections parsed by llhttp."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httptools

from bot.rehearsals.http1 import Headers

# Idle connections kept per upstream; more than the busiest rehearsal target ever holds open.
_MAX_IDLE = 64


class UpstreamError(Exception):
    """The upstream could not be reached or gave no usable answer; the message says why."""


@dataclass(slots=True)
class UpstreamReply:
    status: int = 0
    reason: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""


class _Connection(asyncio.Protocol):
    """One connection to the upstream; answers one request at a time."""

    def __init__(self, pool: set[_Connection]) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.reusable = False
        self._waiter: asyncio.Future[UpstreamReply] | None = None
        self._reply = UpstreamReply()
        self._body: list[bytes] = []
        self._headers_done = False
        self._received = False  # any byte of the current answer
        self._head = False

    def request(self, data: bytes, *, head: bool) -> asyncio.Future[UpstreamReply]:
        assert self.transport is not None and self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self._reply, self._body, self._headers_done, self._received = UpstreamReply(), [], False, False
        self._head = head
        self.reusable = False
        self.transport.write(data)
        return self._waiter

    @property
    def received_any(self) -> bool:
        return self._received

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have the interface without subclassing asyncio's.
        self.transport = cast(asyncio.Transport, transport)
        self._pool.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._pool.discard(self)
        self.transport = None
        self.reusable = False
        if self._headers_done and self._waiter is not None and exc is None:
            self._finish()  # an answer without a length ends when the upstream closes
        else:
            self._fail(UpstreamError("the upstream closed the connection before answering"))

    def data_received(self, data: bytes) -> None:
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"malformed answer from the upstream ({exc})"))
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- llhttp callbacks ------------------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self._reply.reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._reply.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._reply.status = self._parser.get_status_code()
        self._headers_done = True
        if self._head and self._reply.status >= 200:
            # llhttp cannot be told the answer is to HEAD and would wait for a body: end it here,
            # and do not reuse the connection, whose parser now expects that body.
            self._finish()
            self.close()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._reply.status < 200:  # 1xx: an interim answer; the real one follows
            self._reply, self._body, self._headers_done = UpstreamReply(), [], False
            return
        self.reusable = self._parser.should_keep_alive()
        self._finish()

    def _finish(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            self._reply.body = b"".join(self._body)
            waiter.set_result(self._reply)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class UpstreamPool:
    """Keep-alive connections to one upstream URL; a request fails with UpstreamError, never hangs
    past `timeout` seconds."""

    def __init__(self, upstream: str, timeout: float) -> None:
        parts = urlsplit(upstream)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._host_header = parts.netloc.rpartition("@")[2]
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._ssl = ssl.create_default_context() if self._https else None
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def send(self, method: str, target: str, headers: Headers, body: bytes) -> UpstreamReply:
        data = self._encode(method, target, headers, body)
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(data, head=method == "HEAD")
        except TimeoutError:
            raise UpstreamError(f"no answer within {self._timeout:g} s") from None

    async def _exchange(self, data: bytes, *, head: bool) -> UpstreamReply:
        connection = self._take_idle()
        if connection is not None:
            try:
                return await self._on(connection, data, head=head)
            except UpstreamError:
                if connection.received_any:
                    raise
                # The upstream closed the idle connection as we reused it; nothing was processed.
        return await self._on(await self._connect(), data, head=head)

    async def _on(self, connection: _Connection, data: bytes, *, head: bool) -> UpstreamReply:
        try:
            reply = await connection.request(data, head=head)
        except BaseException:
            connection.close()
            raise
        if connection.reusable and connection.transport is not None and len(self._idle) < _MAX_IDLE:
            self._idle.append(connection)
        else:
            connection.close()
        return reply

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(self._open),
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._https else None,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise UpstreamError(f"cannot connect to {self._host}:{self._port}: {reason}") from None
        return connection

    def _encode(self, method: str, target: str, headers: Headers, body: bytes) -> bytes:
        lines = [f"{method} {self._prefix}{target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body

    def close(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()
