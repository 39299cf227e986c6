"""The fault proxy's own HTTP/1.1 framing, driven over raw sockets: what httpx would hide from a test."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.rehearsals.http1 import Reply, encode_reply, split_target
from bot.rehearsals.ledger import Ledger
from bot.rehearsals.proxy import FaultProxy

# -- a raw upstream: each test scripts the exact bytes it answers ---------------------------------

Script = Callable[[socket.socket, bytes], None]


class RawUpstream:
    """Accepts connections and, for each request read, runs `script(conn, request_bytes)`."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(ConnectionError):  # the proxy may drop a pooled connection at the end
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(buffer) < length:
                buffer += conn.recv(65536)
            request, buffer = head + b"\r\n\r\n" + buffer[:length], buffer[length:]
            self.requests.append(request)
            self.script(conn, request)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def raw_upstream() -> Iterator[Callable[[Script], RawUpstream]]:
    made: list[RawUpstream] = []

    def make(script: Script) -> RawUpstream:
        made.append(RawUpstream(script))
        return made[-1]

    yield make
    for upstream in made:
        upstream.close()


def ok(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


@pytest.fixture
def proxy_to() -> Iterator[Callable[[str], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxies.append(FaultProxy(upstream, [], Ledger()).start())
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()


def exchange(proxy: FaultProxy, data: bytes, *, until: bytes | None = None) -> bytes:
    """Send raw bytes, read until the proxy closes (or `until` has arrived)."""
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while until is None or until not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


# -- units ------------------------------------------------------------------------------------------


def test_absolute_form_target_is_reduced_to_path_and_query() -> None:
    assert split_target(b"http://qa-api:8080/v1/a%20b?x=1") == ("/v1/a%20b?x=1", "/v1/a b")
    assert split_target(b"/v1/jobs?page=2") == ("/v1/jobs?page=2", "/v1/jobs")


def test_a_header_value_with_a_line_break_is_never_written() -> None:
    wire = encode_reply(
        Reply(504, [("X-Ok", "1"), ("X-Bad", "a\r\nSet-Cookie: evil=1")]), method="GET", keep_alive=True
    )
    assert b"X-Ok: 1" in wire and b"evil" not in wire
    assert wire.startswith(b"HTTP/1.1 504 Gateway Timeout\r\n")


# -- over sockets -----------------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order_on_one_connection(raw_upstream, proxy_to) -> None:
    def echo_path(conn: socket.socket, request: bytes) -> None:
        path = request.split(b" ")[1]
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))

    proxy = proxy_to(raw_upstream(echo_path).url)
    answer = exchange(
        proxy,
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert answer.index(b"/one") < answer.index(b"/two")
    assert answer.count(b"HTTP/1.1 200 OK") == 2


def test_malformed_request_gets_400_and_the_connection_closes(raw_upstream, proxy_to) -> None:
    proxy = proxy_to(raw_upstream(ok).url)
    answer = exchange(proxy, b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in answer


def test_chunked_request_body_is_forwarded_with_a_length(raw_upstream, proxy_to) -> None:
    upstream = raw_upstream(ok)
    proxy = proxy_to(upstream.url)
    answer = exchange(
        proxy,
        b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 OK")
    [forwarded] = upstream.requests
    assert b"Content-Length: 5\r\n" in forwarded and forwarded.endswith(b"\r\n\r\nabcde")
    assert b"chunked" not in forwarded.lower()


def test_chunked_and_close_delimited_answers_reach_the_client_whole(raw_upstream, proxy_to) -> None:
    def chunked(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\njobs\r\n0\r\n\r\n")

    def until_close(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        conn.shutdown(socket.SHUT_WR)

    for script, status, body in ((chunked, 201, b"jobs"), (until_close, 200, b"all of it")):
        proxy = proxy_to(raw_upstream(script).url)
        answer = httpx.get(f"{proxy.url}/x")
        assert (answer.status_code, answer.content) == (status, body)
        assert answer.headers["Content-Length"] == str(len(body))


def test_idle_upstream_connections_are_reused_and_a_closed_one_is_replaced(raw_upstream, proxy_to) -> None:
    closes_after_answer: list[bool] = [False, True, False]

    def sometimes_closes(conn: socket.socket, request: bytes) -> None:
        ok(conn, request)
        if closes_after_answer.pop(0):
            conn.shutdown(socket.SHUT_RDWR)  # the proxy only notices when it next uses it

    upstream = raw_upstream(sometimes_closes)
    proxy = proxy_to(upstream.url)
    with httpx.Client(base_url=proxy.url) as client:
        assert [client.get("/a").status_code for _ in range(3)] == [200, 200, 200]
    assert upstream.connections == 2
    assert [entry.status for entry in proxy.ledger.entries()] == [200, 200, 200]


def test_a_reused_connection_closed_before_answering_is_retried_once_on_a_fresh_one(
    raw_upstream, proxy_to
) -> None:
    served: list[int] = []

    def drops_second_request_on_a_connection(conn: socket.socket, request: bytes) -> None:
        served.append(id(conn))
        if served.count(id(conn)) == 2:  # as an upstream whose keep-alive timeout just ran out
            conn.shutdown(socket.SHUT_RDWR)
        else:
            ok(conn, request)

    upstream = raw_upstream(drops_second_request_on_a_connection)
    proxy = proxy_to(upstream.url)
    with httpx.Client(base_url=proxy.url) as client:
        assert [client.post("/v1/jobs").status_code for _ in range(2)] == [200, 200]
    assert upstream.connections == 2 and len(upstream.requests) == 3
    assert [entry.status for entry in proxy.ledger.entries()] == [200, 200]


def test_expect_100_continue_is_answered_and_not_forwarded(raw_upstream, proxy_to) -> None:
    upstream = raw_upstream(ok)
    proxy = proxy_to(upstream.url)
    port = int(proxy.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"PUT /v1/blob HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\n\r\n"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"blob")
        assert b"HTTP/1.1 200 OK" in sock.recv(1024)
    assert b"expect" not in upstream.requests[0].lower()


def test_http_1_0_client_gets_its_answer_and_the_connection_closed(raw_upstream, proxy_to) -> None:
    proxy = proxy_to(raw_upstream(ok).url)
    answer = exchange(proxy, b"GET /v1/jobs HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\nok")
    assert b"Connection: close" in answer


def test_upstream_garbage_is_a_502_with_the_reason(raw_upstream, proxy_to) -> None:
    def garbage(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"SPDY/9 nonsense\r\n\r\n")

    proxy = proxy_to(raw_upstream(garbage).url)
    answer = httpx.get(f"{proxy.url}/v1/jobs")
    assert answer.status_code == 502
    assert "malformed answer from the upstream" in answer.text
    assert proxy.ledger.entries()[0].error == answer.text.removeprefix("IRIS fault proxy: ")


def test_upstream_base_path_prefixes_every_forwarded_target(raw_upstream, proxy_to) -> None:
    upstream = raw_upstream(ok)
    proxy = proxy_to(upstream.url + "/api")
    httpx.get(f"{proxy.url}/v1/jobs?x=1")
    assert upstream.requests[0].startswith(b"GET /api/v1/jobs?x=1 HTTP/1.1\r\n")


def test_a_websocket_upgrade_is_refused_with_501(raw_upstream, proxy_to) -> None:
    upstream = raw_upstream(ok)
    proxy = proxy_to(upstream.url)
    answer = exchange(
        proxy, b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 501 Not Implemented\r\n")
    assert upstream.requests == []
