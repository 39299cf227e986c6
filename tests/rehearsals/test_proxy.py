"""The fault proxy against a real loopback upstream: injection, forwarding, the ledger, cleanup."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot.rehearsals.ledger import Ledger
from bot.rehearsals.proxy import FaultProxy, FaultSpec

if TYPE_CHECKING:  # mypy proves the real model satisfies the protocol; no import needed at run time
    from bot.rehearsals.scenario import Fault

    def _real_faults_are_fault_specs(fault: Fault) -> FaultSpec:
        return fault

# -- faults of our own, shaped like scenario.Fault ------------------------------------------------


@dataclass(frozen=True)
class FakeMatch:
    method: str | None = None
    path: str = "*"


@dataclass(frozen=True)
class FakeRespond:
    status: int = 504
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "injected by IRIS"


@dataclass(frozen=True)
class FakeWhen:
    attempts: list[int] | None = None
    probability: float | None = None
    seed: int | None = None
    every_nth: int | None = None


@dataclass(frozen=True)
class FakeFault:
    id: str
    match: FakeMatch
    respond: FakeRespond
    when: FakeWhen
    delay: float = 0.0

    def retry_after_seconds(self) -> float | None:
        value = self.respond.headers.get("Retry-After")
        return float(value) if value is not None else None


def fault(
    id: str = "gw",
    *,
    method: str | None = None,
    path: str = "*",
    status: int = 504,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
    **when: Any,
) -> FakeFault:
    return FakeFault(id, FakeMatch(method, path), FakeRespond(status, headers or {}), FakeWhen(**when), delay)


# -- a real upstream ------------------------------------------------------------------------------


class EchoHandler(BaseHTTPRequestHandler):
    """Answers 201 with what it received; /redirect answers 302."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the body

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        payload = json.dumps(
            {
                "method": self.command,
                "path": path,
                "query": query,
                "body": body,
                "headers": {name.lower(): value for name, value in self.headers.items()},
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        # Hop-by-hop on the way back: the proxy must not relay these.
        self.send_header("Connection", "X-Private-Hop")
        self.send_header("X-Private-Hop", "secret")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "42")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the 50-request test must not overflow the default backlog of 5


@pytest.fixture
def upstream() -> Iterator[str]:
    server = EchoServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


StartProxy = Callable[..., FaultProxy]


@pytest.fixture
def start_proxy(upstream: str) -> Iterator[StartProxy]:
    proxies: list[FaultProxy] = []

    def start(*faults: FaultSpec, to: str | None = None, **options: Any) -> FaultProxy:
        proxy = FaultProxy(to or upstream, faults, Ledger(), **options).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def statuses(proxy: FaultProxy, method: str, path: str, times: int) -> list[int]:
    with httpx.Client(base_url=proxy.url) as client:
        return [client.request(method, path).status_code for _ in range(times)]


# -- when and match -------------------------------------------------------------------------------


def test_attempts_one_and_two_fail_in_every_run_then_requests_go_through(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(method="POST", path="/v1/jobs*", attempts=[1, 2]))
    for run in (1, 2):
        proxy.begin_run(run)
        assert statuses(proxy, "POST", "/v1/jobs", 3) == [504, 504, 201]
        entries = proxy.ledger.entries(run)
        assert [(e.fault_id, e.attempt, e.injected) for e in entries] == [
            ("gw", 1, True),
            ("gw", 2, True),
            ("gw", 3, False),
        ]
        assert entries[0].upstream_latency is None
        assert entries[2].upstream_latency is not None and entries[2].upstream_latency > 0
    assert proxy.ledger.faults_injected() == 4


def test_injected_response_carries_the_declared_status_headers_and_body(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(status=503, headers={"Retry-After": "2", "X-Why": "rehearsal"}, attempts=[1]))
    answer = httpx.post(f"{proxy.url}/v1/jobs")
    assert answer.status_code == 503
    assert answer.text == "injected by IRIS"
    assert answer.headers["Retry-After"] == "2"
    assert answer.headers["X-Why"] == "rehearsal"
    [entry] = proxy.ledger.entries()
    assert entry.retry_after == 2.0
    assert entry.status == 503


def test_unmatched_requests_are_forwarded_and_recorded_without_a_fault(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(method="POST", path="/v1/jobs*", every_nth=1))
    answer = httpx.get(f"{proxy.url}/health?deep=1")
    assert answer.status_code == 201
    [entry] = proxy.ledger.entries()
    assert (entry.fault_id, entry.attempt, entry.injected) == (None, None, False)
    assert (entry.method, entry.path, entry.status) == ("GET", "/health", 201)


def test_method_is_case_insensitive_and_path_is_a_glob_without_the_query(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(method="post", path="/v1/jobs/*", every_nth=1))
    with httpx.Client(base_url=proxy.url) as client:
        assert client.post("/v1/jobs/42").status_code == 504
        assert client.post("/v1/jobs/42?retry=1").status_code == 504
        assert client.get("/v1/jobs/42").status_code == 201
        assert client.post("/v1/other").status_code == 201
    assert [e.attempt for e in proxy.ledger.entries()] == [1, 2, None, None]


def test_first_matching_fault_wins_and_attempts_are_counted_per_fault(start_proxy: StartProxy) -> None:
    proxy = start_proxy(
        fault("jobs", path="/v1/jobs", attempts=[2]), fault("any", path="/v1/*", attempts=[1])
    )
    with httpx.Client(base_url=proxy.url) as client:
        codes = [client.get(path).status_code for path in ("/v1/jobs", "/v1/users", "/v1/jobs", "/v1/users")]
    assert codes == [201, 504, 504, 201]
    assert [(e.fault_id, e.attempt) for e in proxy.ledger.entries()] == [
        ("jobs", 1),
        ("any", 1),
        ("jobs", 2),
        ("any", 2),
    ]


def test_every_nth_injects_on_multiples(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(every_nth=3))
    assert statuses(proxy, "GET", "/", 7) == [201, 201, 504, 201, 201, 504, 201]


def injected_pattern(proxy: FaultProxy, run: int, requests: int = 40) -> list[bool]:
    proxy.begin_run(run)
    statuses(proxy, "GET", "/", requests)
    return [e.injected for e in proxy.ledger.entries(run)[-requests:]]


def test_probability_with_a_seed_repeats_exactly_and_differs_between_runs(start_proxy: StartProxy) -> None:
    first = start_proxy(fault(probability=0.5, seed=7))
    second = start_proxy(fault(probability=0.5, seed=7))
    run_one = injected_pattern(first, 1)
    assert injected_pattern(second, 1) == run_one
    # Documented semantics: random.Random(seed + run), injecting when a draw falls under probability.
    expected = random.Random(7 + 1)
    assert run_one == [expected.random() < 0.5 for _ in range(40)]
    assert injected_pattern(first, 2) != run_one
    assert injected_pattern(first, 1) == run_one  # a repeated run number replays it


# -- timing ---------------------------------------------------------------------------------------


def test_delay_is_waited_before_the_injected_answer(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(attempts=[1], delay=0.2))
    assert statuses(proxy, "GET", "/", 2) == [504, 201]
    delayed, forwarded = proxy.ledger.entries()
    assert delayed.responded_at - delayed.received_at >= 0.2
    assert forwarded.received_at >= delayed.responded_at


def test_fifty_concurrent_requests_get_attempts_one_to_fifty_exactly_once(start_proxy: StartProxy) -> None:
    proxy = start_proxy(fault(method="POST", path="/v1/jobs", attempts=list(range(1, 26))))

    async def fire() -> list[int]:
        async with httpx.AsyncClient(base_url=proxy.url) as client:
            answers = await asyncio.gather(*(client.post("/v1/jobs", json={"n": n}) for n in range(50)))
        return [answer.status_code for answer in answers]

    codes = asyncio.run(fire())
    assert sorted(codes) == [201] * 25 + [504] * 25
    entries = proxy.ledger.entries()
    assert [e.attempt for e in entries] == list(range(1, 51))  # receive order is attempt order
    assert sorted(e.attempt or 0 for e in entries if e.injected) == list(range(1, 26))


# -- forwarding -----------------------------------------------------------------------------------


def test_query_body_and_end_to_end_headers_are_forwarded_hop_by_hop_ones_dropped(
    start_proxy: StartProxy, upstream: str
) -> None:
    proxy = start_proxy()
    answer = httpx.post(
        f"{proxy.url}/v1/search?q=a%20b&page=2",
        content=b'{"k": 1}',
        headers={
            "X-Trace": "abc",
            "Content-Type": "application/json",
            "Proxy-Authorization": "Basic eDp5",
            "Connection": "keep-alive, X-Hop-Secret",
            "X-Hop-Secret": "1",
        },
    )
    assert answer.status_code == 201
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == (
        "POST",
        "/v1/search",
        "q=a%20b&page=2",
        '{"k": 1}',
    )
    assert seen["headers"]["x-trace"] == "abc"
    assert seen["headers"]["host"] == upstream.removeprefix("http://")
    assert "proxy-authorization" not in seen["headers"]
    assert "x-hop-secret" not in seen["headers"]
    assert answer.headers["X-Upstream"] == "yes"
    assert answer.headers["Content-Type"] == "application/json"
    assert "X-Private-Hop" not in answer.headers
    assert "Keep-Alive" not in answer.headers


def test_redirects_are_relayed_not_followed(start_proxy: StartProxy) -> None:
    proxy = start_proxy()
    answer = httpx.get(f"{proxy.url}/redirect")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/elsewhere"


def test_head_keeps_the_upstream_content_length(start_proxy: StartProxy) -> None:
    proxy = start_proxy()
    answer = httpx.head(f"{proxy.url}/report")
    assert (answer.status_code, answer.headers["Content-Length"]) == (200, "42")


def test_request_body_over_ten_mib_is_refused(start_proxy: StartProxy) -> None:
    proxy = start_proxy()
    answer = httpx.post(f"{proxy.url}/upload", content=b"x" * (10 * 1024 * 1024 + 1))
    assert answer.status_code == 413
    [entry] = proxy.ledger.entries()
    assert entry.status == 413
    assert entry.error is not None


def test_unreachable_upstream_answers_502_with_the_reason(start_proxy: StartProxy) -> None:
    proxy = start_proxy(to=f"http://127.0.0.1:{free_port()}")
    answer = httpx.get(f"{proxy.url}/v1/jobs")
    assert answer.status_code == 502
    assert answer.text.startswith("IRIS fault proxy: upstream unreachable: ")
    [entry] = proxy.ledger.entries()
    assert entry.status == 502 and not entry.injected
    assert entry.error and entry.error in answer.text
    assert entry.upstream_latency is None


def test_silent_upstream_times_out_as_502(start_proxy: StartProxy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        proxy = start_proxy(to=f"http://127.0.0.1:{silent.getsockname()[1]}", upstream_timeout=0.2)
        answer = httpx.get(f"{proxy.url}/v1/jobs")
    assert answer.status_code == 502
    assert "no answer within 0.2 s" in answer.text
    assert proxy.ledger.entries()[0].error == "upstream unreachable: no answer within 0.2 s"


# -- lifecycle ------------------------------------------------------------------------------------


def test_stop_frees_the_port_and_is_idempotent(upstream: str) -> None:
    with FaultProxy(upstream, [], Ledger()) as proxy:
        assert httpx.get(f"{proxy.url}/").status_code == 201
        port = int(proxy.url.rsplit(":", 1)[1])
    proxy.stop()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    # On Linux SO_REUSEADDR still refuses a port something listens on; it only forgives TIME_WAIT.
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


# -- with the real scenario model -----------------------------------------------------------------


SCENARIO = """\
name: proxy-check
runs: 1
target:
  command: ["python3", "-c", "pass"]
upstream: {upstream}
faults:
  - id: gw-timeout
    match: {{method: POST, path: "/v1/jobs*"}}
    respond: {{status: 503, headers: {{Retry-After: "1"}}, body: "injected by IRIS"}}
    when: {{attempts: [1]}}
expect:
  exit_code: 0
"""


def test_faults_parsed_from_a_scenario_file_drive_the_proxy(
    start_proxy: StartProxy, upstream: str, tmp_path: Path
) -> None:
    scenario = pytest.importorskip("bot.rehearsals.scenario")
    parsed = scenario.parse_scenario(SCENARIO.format(upstream=upstream), source=tmp_path / "check.yml")
    proxy = start_proxy(*parsed.faults)
    assert statuses(proxy, "POST", "/v1/jobs", 2) == [503, 201]
    first, second = proxy.ledger.entries()
    assert (first.fault_id, first.attempt, first.retry_after) == ("gw-timeout", 1, 1.0)
    assert (second.attempt, second.injected) == (2, False)
