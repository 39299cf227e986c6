"""A lean HTTP/1.1 server for the fault proxy: asyncio protocols over llhttp (httptools).

aiohttp's server spent most of the proxy's CPU on each request (routing, request objects,
middlewares it does not need); the proxy only needs the method, target, headers and body of a
request and one buffer to write back. Requests on one connection are answered in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast
from urllib.parse import unquote

import httptools

log = logging.getLogger(__name__)

Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # path and query as sent (an absolute-form target is reduced to them)
    path: str  # percent-decoded, without the query: what faults match against
    headers: Headers
    body: bytes
    keep_alive: bool
    too_large: bool  # the body went over the limit and was discarded


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Headers
    body: bytes = b""
    reason: str | None = None
    # For HEAD and 304 the body is empty but the length is the resource's: relayed as given.
    content_length: str | None = None


Handler = Callable[[Request], Awaitable[Reply]]


def encode_reply(reply: Reply, *, method: str, keep_alive: bool) -> bytes:
    reason = reply.reason if reply.reason is not None else _phrase(reply.status)
    lines = [f"HTTP/1.1 {reply.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in reply.headers if _safe(name) and _safe(value)]
    has_body = method != "HEAD" and reply.status >= 200 and reply.status not in (204, 304)
    if reply.content_length is not None and not has_body:
        lines.append(f"Content-Length: {reply.content_length}")
    elif has_body:
        lines.append(f"Content-Length: {len(reply.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head + reply.body if has_body else head


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _safe(text: str) -> bool:
    """A CR or LF would end the header early and let a value write headers of its own."""
    return "\r" not in text and "\n" not in text


def split_target(raw: bytes) -> tuple[str, str]:
    """(path and query to forward, decoded path to match); absolute-form targets lose scheme and host."""
    if not raw.startswith(b"/"):
        url = httptools.parse_url(raw)
        raw = (url.path or b"/") + (b"?" + url.query if url.query else b"")
    target = raw.decode("latin-1")
    path = target.partition("?")[0].partition("#")[0]
    return target, unquote(path)


class ServerConnection(asyncio.Protocol):
    """One client connection: parses requests as bytes arrive and answers them one at a time."""

    def __init__(
        self,
        handler: Handler,
        max_body: int,
        tasks: set[asyncio.Task[None]],
        connections: set[ServerConnection],
    ) -> None:
        self._handler = handler
        self._max_body = max_body
        self._tasks = tasks
        self._connections = connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._pending: deque[Request] = deque()
        self._busy = False
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: Headers = []
        self._body: list[bytes] = []
        self._size = 0
        self._too_large = False

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have the interface without subclassing asyncio's.
        self._transport = cast(asyncio.Transport, transport)
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._pending.clear()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(501, "protocol upgrades are not proxied")
        except httptools.HttpParserError:
            self._refuse(400, "malformed HTTP request")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # -- llhttp callbacks ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:
            lowered = name.lower()
            if (
                lowered == "content-length"
                and value.isascii()
                and value.isdigit()
                and int(value) > self._max_body
            ):
                self._too_large = True
            elif lowered == "expect" and value.lower() == "100-continue" and self._transport is not None:
                self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._too_large:
            return  # read and dropped, so the client can finish sending and then read the 413
        self._size += len(body)
        if self._size > self._max_body:
            self._too_large, self._body = True, []
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self._parser.should_upgrade():
            return  # feed_data raises HttpParserUpgrade next, and data_received refuses it
        try:
            target, path = split_target(self._url)
        except httptools.HttpParserInvalidURLError:
            self._refuse(400, "malformed request target")
            return
        method = self._parser.get_method().decode("latin-1")
        self._pending.append(
            Request(
                method,
                target,
                path,
                self._headers,
                b"".join(self._body),
                self._parser.should_keep_alive(),
                self._too_large,
            )
        )
        self._next()

    # -- answering -------------------------------------------------------------------------------

    def _next(self) -> None:
        if self._busy or not self._pending:
            return
        self._busy = True
        task = asyncio.get_running_loop().create_task(self._answer(self._pending.popleft()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request: Request) -> None:
        try:
            reply = await self._handler(request)
        except Exception:  # a bug must cost one request, not the connection's others
            log.exception("fault proxy failed to answer %s %s", request.method, request.target)
            reply = Reply(500, [], b"IRIS fault proxy: internal error")
        transport = self._transport
        self._busy = False
        if transport is None or transport.is_closing():
            return
        transport.write(encode_reply(reply, method=request.method, keep_alive=request.keep_alive))
        if request.keep_alive:
            self._next()
        else:
            transport.close()

    def _refuse(self, status: int, reason: str) -> None:
        if self._transport is not None and not self._transport.is_closing():
            reply = Reply(status, [("Content-Type", "text/plain")], f"IRIS fault proxy: {reason}".encode())
            self._transport.write(encode_reply(reply, method="GET", keep_alive=False))
            self._transport.close()


def relay(headers: Sequence[tuple[str, str]], dropped: frozenset[str]) -> Headers:
    """The headers minus `dropped` and whatever the Connection header names (hop-by-hop)."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name, value) for name, value in headers if name.lower() not in dropped and name.lower() not in named
    ]
