"""`iris demo` as a user starts it: ready within 10 s, stopped by Ctrl-C or SIGTERM with nothing left."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.demo.conftest import Demo, descendants, ready, started_demo
from tests.e2e.conftest import eventually, iris_command

pytestmark = pytest.mark.e2e

READY_WITHIN_S = 10.0  # the promise, as the demo itself measures it from its start


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_demo_is_ready_within_ten_seconds_and_stops_everything(
    demo_factory: list[Demo], tmp_path: Path, sig: int
) -> None:
    demo = started_demo(demo_factory, tmp_path)
    assert ready(demo) < READY_WITHIN_S
    page = httpx.get(demo.url + "/", timeout=5)
    assert "IRIS playground" in page.text and "# ops" in page.text
    assert demo.stop(sig) == 0
    assert any("nothing left running" in line for line in demo.lines)


def test_a_busy_port_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*iris_command(), "demo", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert result.stderr.startswith(f"iris: cannot listen on 127.0.0.1:{port}")
    assert f"try --port {port + 1}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_page_refuses_bad_and_foreign_requests(demo_factory: list[Demo], tmp_path: Path) -> None:
    demo = started_demo(demo_factory, tmp_path)
    ready(demo)
    not_a_command = httpx.post(demo.url + "/command", json={"text": "hello"}, timeout=10)
    assert not_a_command.status_code == 400
    assert "IRIS reads no other messages" in not_a_command.json()["error"]
    json_type = {"Content-Type": "application/json"}
    assert httpx.post(demo.url + "/command", content=b"[1", headers=json_type, timeout=10).status_code == 400
    # another site in the same browser: a form or text/plain post, a foreign Origin, a rebound DNS name
    plain = {"Content-Type": "text/plain"}
    assert (
        httpx.post(demo.url + "/command", content=b'{"text": "/iris help"}', headers=plain).status_code == 415
    )
    foreign = json_type | {"Origin": "http://evil.example"}
    assert httpx.post(demo.url + "/command", json={"text": "/iris help"}, headers=foreign).status_code == 403
    assert httpx.get(demo.url + "/record", headers={"Host": "evil.example"}).status_code == 421
    assert demo.record()["ephemerals"] == []  # none of them reached IRIS
    assert (
        httpx.post(demo.url + "/submit", json={"view_id": "V0NONE", "values": {}}, timeout=10).status_code
        == 409
    )
    assert httpx.get(demo.url + "/files/F0NONE", timeout=10).status_code == 404
    assert demo.stop() == 0


def _running_script(demo: Demo) -> bool:
    assert demo.process is not None
    for pid in descendants(demo.process.pid):
        try:
            if b"automation.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_stopping_in_the_middle_of_a_rehearsal_ends_its_script_too(
    demo_factory: list[Demo], tmp_path: Path
) -> None:
    demo = started_demo(demo_factory, tmp_path)
    ready(demo)
    command = {"channel": "C0DEMOREL", "user": "U0RELEASE", "text": "/iris rehearse automation-v1.2"}
    assert httpx.post(demo.url + "/command", json=command, timeout=10).json() == {"ok": True}
    assert eventually(
        lambda: _running_script(demo), timeout=30
    )  # the example script is running under iris serve
    assert demo.stop() == 0  # asserts that nothing the demo started, grandchildren included, survives
