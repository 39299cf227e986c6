"""`/iris incidents` in process: the count is of every open group, and the answer keeps whole lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.service import AlertService
from bot.deps import Deps
from bot.slack_standin.server import SlackStandin
from commands.alerts.incidents import MAX_LISTED, MAX_TEXT, list_incidents
from commands.kit import Invocation
from tests.alerts.test_delivery import group_payload, make_deps


@pytest.fixture
def deps(standin: SlackStandin, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Deps]:
    built, poster = make_deps(standin, sqlite_engine, tmp_path)
    yield built
    poster.close()
    built.slack.close()


def answer(deps: Deps) -> str:
    invocation = Invocation(
        user_id="U1",
        team_id=None,
        channel_id="C0OPS",
        response_url="https://r.test/1",
        trigger_id=None,
        subcommand="incidents",
        rest="",
    )
    text: str = list_incidents(deps, invocation, None).payload["body"]["text"]
    return text


def test_the_count_is_of_every_open_group_and_no_line_is_cut(deps: Deps) -> None:
    for n in range(60):
        data = json.loads(group_payload(n))
        data["alerts"][0]["annotations"]["summary"] = "x"
        data["groupLabels"]["note"] = f"<https://example.org/{n}|{'long ' * 30}>"
        deps.service(AlertService).receive("alertmanager", json.dumps(data).encode())
    text = answer(deps)
    lines = text.split("\n")
    assert lines[0] == "60 open alert groups:"
    assert 1 < len(lines) <= MAX_LISTED + 1 and len(text) <= MAX_TEXT
    whole = re.compile(r"^• \*Burst\d\d\* .* — 1 of 1 firing since (\d\d-\d\d )?\d\d:\d\d$")
    assert [line for line in lines[1:] if not whole.match(line)] == []
