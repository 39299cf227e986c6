"""Fuzzing what Slack can send: really signed slash commands, button clicks and form submissions with
arbitrary text, ids and values, through IRIS's own server (signature check, parser, shape check,
replay check, Bolt, every feature's listener and the job it starts), on SQLite and PostgreSQL.

Whatever arrives, the answer is a defined status (never a 500), and no listener or job ends in an
unhandled exception (each would be logged with a traceback). The raw parsers get arbitrary bytes too.

Bounded: IRIS_FUZZ_EXAMPLES examples per test (default 150), no deadline per example.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.types import ASGIApp

from bot.app import create_app
from bot.deps import Deps
from bot.logs import escape_log_records
from bot.runtime import build_deps
from bot.server import create_server
from bot.slack.request import replay_key, shape_error, signature_error, to_bolt_request
from bot.slack_standin.driver import sign_request
from commands import registry
from commands.alerts.views import ACK_ACTION, UNSILENCE_ACTION
from commands.briefings.views import ABSENT_ACTION, ATTEND_ACTION
from commands.checklists.modals import NA_VIEW, NOTE_VIEW
from commands.checklists.views import APPROVE, NA, NOTE, PAGE, SIGN, UNDO
from commands.registry import load_config
from commands.rehearsals.views import ABORT_ACTION
from commands.reports.views import HTML_ACTION, MARKDOWN_ACTION, POST_ACTION

EXAMPLES = int(os.environ.get("IRIS_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SECRET = "fuzz-signing-secret"
ADMIN = "UADMIN01"
DEFINED = {200, 400, 401, 404, 409, 413}

AWKWARD = st.sampled_from(
    ["\x00", "\ud800", "\u202e", "\U0001f6a8", '"', "“", "<!channel>", "<@U1>", "&", "`"]
)
TEXT = st.lists(st.one_of(AWKWARD, st.characters(), st.sampled_from([" ", "=", ","])), max_size=60).map(
    "".join
) | st.sampled_from(["", "x" * 5000, "9" * 40, "-1", "1:1", "1:1:1", "0", "2026-02-30", "tomorrow 10:00"])
IDS = st.sampled_from([ADMIN, "U0USER", "C0OPS", "", "U" + "A" * 40, "W1", "\x00"]) | TEXT
WORDS = [
    f"{command.word} {action.word}".strip()
    for command in registry.all_commands()
    for action in (command.actions or ())  # type: ignore[attr-defined]
] + ["help", "", "nonsense"]
ACTION_IDS = [SIGN, UNDO, APPROVE, NA, NOTE, f"{PAGE}_1", ATTEND_ACTION, ABSENT_ACTION, ABORT_ACTION]
ACTION_IDS += [ACK_ACTION, "alert_silence_1", UNSILENCE_ACTION, POST_ACTION, MARKDOWN_ACTION, HTML_ACTION]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


@pytest.fixture
def server(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[ASGIApp, Deps]]:
    """IRIS's whole HTTP app in this process; after the examples, every job they started must have
    finished without an unhandled exception."""
    (tmp_path / "iris.yml").write_text(f"channels:\n  default: C0OPS\nroles:\n  admins: [{ADMIN}]\n")
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-fuzz",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing is delivered: the poster does not run
            "IRIS_CONFIG": str(tmp_path / "iris.yml"),
        }
    )
    deps, poster = build_deps(config, engine)
    restore = escape_log_records()  # as `iris serve` does: hostile ids reach log lines escaped
    yield create_server(deps, create_app(deps), registry.endpoints(deps)), deps
    unfinished = deps.jobs.shutdown(timeout=30)
    poster.close()
    deps.slack.close()
    restore()
    assert unfinished == 0
    assert not _unhandled(caplog.records)


def _send(app: ASGIApp, body: bytes, content_type: str) -> int:
    headers = {"Content-Type": content_type} | sign_request(SECRET, body, int(time.time()))

    async def post() -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://iris") as client:
            return (await client.post("/slack/events", content=body, headers=headers)).status_code

    return asyncio.run(post())


def _unhandled(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR or r.exc_info]


def _payload(kind: str, user: str, channel: Any, extra: dict[str, Any]) -> bytes:
    payload = {
        "type": kind,
        "user": {"id": user, "team_id": "T0001"},
        "team": {"id": "T0001"},
        "trigger_id": os.urandom(8).hex(),
        "response_url": "https://hooks.slack.com/actions/T0001/1/x",
    } | extra
    if channel:
        payload["channel"] = {"id": channel} if isinstance(channel, str) else channel
    return urlencode({"payload": json.dumps(payload)}).encode()


@FUZZ
@given(words=st.sampled_from(WORDS), rest=TEXT, user=IDS, channel=IDS, response_url=TEXT)
def test_any_signed_slash_command_gets_a_defined_answer(
    server: tuple[ASGIApp, Deps],
    caplog: pytest.LogCaptureFixture,
    words: str,
    rest: str,
    user: str,
    channel: str,
    response_url: str,
) -> None:
    app, _ = server
    fields = {
        "command": "/iris",
        "text": f"{words} {rest}",
        "user_id": user,
        "channel_id": channel,
        "team_id": "T0001",
        "response_url": response_url or "https://hooks.slack.com/commands/T0001/1/x",
        "trigger_id": os.urandom(8).hex(),
    }
    status = _send(
        app, urlencode(fields, errors="surrogatepass").encode(), "application/x-www-form-urlencoded"
    )
    assert status in DEFINED, (fields, status)
    assert not _unhandled(caplog.records), fields


@FUZZ
@given(
    action_id=st.sampled_from(ACTION_IDS) | TEXT,
    value=st.one_of(st.none(), TEXT, st.sampled_from(["1", "1:1", "1:1:1", "r-1", '{"day":"2026-12-07"}'])),
    user=st.sampled_from([ADMIN, "U0USER"]) | IDS,
    channel=IDS | JSON_VALUES,  # a channel id, or a channel that is not even an object
    message_ts=st.none() | TEXT,
)
def test_any_signed_click_gets_a_defined_answer(
    server: tuple[ASGIApp, Deps],
    caplog: pytest.LogCaptureFixture,
    action_id: str,
    value: str | None,
    user: str,
    channel: Any,
    message_ts: str | None,
) -> None:
    app, _ = server
    action: dict[str, Any] = {"action_id": action_id, "block_id": "b", "type": "button"}
    if value is not None:
        action["value"] = value
    extra = {"actions": [action], "container": {"type": "message", "message_ts": message_ts}}
    status = _send(app, _payload("block_actions", user, channel, extra), "application/x-www-form-urlencoded")
    assert status in DEFINED, (action, status)
    assert not _unhandled(caplog.records), action


@FUZZ
@given(
    callback_id=st.sampled_from([NA_VIEW, NOTE_VIEW]) | TEXT,
    metadata=TEXT | st.sampled_from(["1:1 C0OPS 1.1", "1:1 - -", "1:1"]),
    values=st.dictionaries(TEXT, st.dictionaries(TEXT, JSON_VALUES, max_size=2), max_size=2)
    | st.just({"text": {"text_input": {"value": "a reason"}}}),
    user=IDS,
)
def test_any_signed_form_submission_gets_a_defined_answer(
    server: tuple[ASGIApp, Deps],
    caplog: pytest.LogCaptureFixture,
    callback_id: str,
    metadata: str,
    values: dict[str, Any],
    user: str,
) -> None:
    app, _ = server
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "state": {"values": values},
    }
    status = _send(
        app, _payload("view_submission", user, "", {"view": view}), "application/x-www-form-urlencoded"
    )
    assert status in DEFINED, (view, status)
    assert not _unhandled(caplog.records), view


@FUZZ
@given(
    body=st.binary(max_size=2000) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    signed=st.booleans(),
)
def test_the_parsers_take_any_bytes(body: bytes, signed: bool) -> None:
    headers = sign_request(SECRET, body, int(time.time())) if signed else {}
    assert (signature_error(SECRET, body, headers) is None) == signed
    for content_type in ("application/x-www-form-urlencoded", "application/json"):
        try:
            request = to_bolt_request(body, {"content-type": content_type} | headers, {})
        except ValueError:
            continue
        assert shape_error(request.body) is None
        assert len(replay_key(body, request.body)) == 64
