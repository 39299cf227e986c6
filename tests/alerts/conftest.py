"""An `iris serve` with alert webhooks on, and helpers to send it alerts and read what it stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.model import StoredMessage
from bot.slack_standin.server import SlackStandin
from storage.alerts import AlertGroup
from storage.db import read_scope
from tests.e2e.conftest import IrisServer, database_of, driving, running, server_env

TOKEN = "alert-token-0123456789abcdef"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"
ONCALL = "UONCALL1"
ALERTS_YML = """\
channels:
  default: C0OPS
  incidents: C0INC
roles:
  admins: [UADMIN01]
  oncall: [UONCALL1]
routes:
  - match: {team: payments}
    match_re: {severity: "critical|page"}
    channel: C0PAY
    mention: S0PAYONCALL
"""


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def alerting_env(standin: SlackStandin, workdir: Path, **overrides: str) -> dict[str, str]:
    env = server_env(standin, workdir, IRIS_ALERT_TOKEN=TOKEN, **overrides)
    (workdir / "iris.yml").write_text(ALERTS_YML)
    return env


def send(server: IrisServer, source: str, data: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return httpx.post(
        f"{server.base_url}/alerts/{source}",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )


def top_level(standin: SlackStandin, channel: str) -> list[StoredMessage]:
    return [m for m in standin.messages(channel) if not m.thread_ts]


def thread(standin: SlackStandin, channel: str, ts: str) -> list[StoredMessage]:
    return [m for m in standin.messages(channel) if m.thread_ts == ts]


def block_text(message: StoredMessage) -> str:
    return json.dumps(message.blocks or [], ensure_ascii=False)


def group_ids(engine: Engine) -> list[int]:
    with read_scope(engine) as session:
        return [g.id for g in session.exec(select(AlertGroup).order_by(AlertGroup.id)) if g.id is not None]


@pytest.fixture
def alerting(standin: SlackStandin, tmp_path: Path) -> Iterator[IrisServer]:
    yield from running(alerting_env(standin, tmp_path), tmp_path)


@pytest.fixture
def alerting_db(alerting: IrisServer) -> Iterator[Engine]:
    yield from database_of(alerting)


@pytest.fixture
def slack(alerting: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(alerting, standin)


@pytest.fixture
def alertmanager_binary() -> str:
    """The real Alertmanager; in CI its absence fails the run, elsewhere these tests are skipped."""
    from tests.alerts.real_alertmanager import find_binary
    from tests.conftest import IN_CI

    binary = find_binary()
    if binary is None:
        message = "no Alertmanager: run scripts/ensure_alertmanager.sh (Debian's prometheus-alertmanager)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the Alertmanager tests must run)")
        pytest.skip(message)
    return binary
