"""A lean HTTP/1.1 load generator: one keep-alive connection per concurrent request, parsed by llhttp.

aiohttp's client costs ~0.08 ms of CPU per request; at 50 concurrent requests on a 2-CPU machine that
makes the load generator the busiest process of a benchmark about something else. This one sends
the same requests for a fraction of that, so the CPUs go to what is measured.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import cast
from urllib.parse import urlsplit

import httptools


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionResetError("closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    async def exchange(self, request: bytes) -> int:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.done


def encode_post(url: str, body: bytes, content_type: str) -> bytes:
    parts = urlsplit(url)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def send(
    url: str, body: bytes, content_type: str, concurrency: int, requests: int
) -> tuple[list[float], Counter[str]]:
    """`requests` POSTs to `url`, `concurrency` at a time; latencies in seconds and status counts."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    request = encode_post(url, body, content_type)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    remaining = [requests]

    async def worker() -> None:
        _, connection = await loop.create_connection(_Connection, parts.hostname, parts.port)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                try:
                    outcome = str(await connection.exchange(request))
                except (OSError, httptools.HttpParserError) as exc:
                    outcome = type(exc).__name__
                    _, connection = await loop.create_connection(_Connection, parts.hostname, parts.port)
                latencies.append(time.perf_counter() - started)
                outcomes[outcome] += 1
        finally:
            if connection.transport is not None:
                connection.transport.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, outcomes
