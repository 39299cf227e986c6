"""The `iris` console script: start-up refusals in one sentence with exit code 2, and its tools."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from freezegun import freeze_time

from bot.slack_standin.server import SlackStandin
from storage import audit, fit
from storage.audit import Action, Actor
from storage.db import open_engine, session_scope
from storage.migrate import head_revision
from tests.e2e.conftest import SCHEMA, iris_command, server_env

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def run_iris(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*iris_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "iris: SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "iris: SLACK_BOT_TOKEN is invalid: must be a bot token"),
        ({"SLACK_SIGNING_SECRET": ""}, "iris: SLACK_SIGNING_SECRET is not set"),
        ({"IRIS_PORT": "70000"}, "iris: IRIS_PORT is invalid"),
        ({"IRIS_TIMEZONE": "Mars/Olympus"}, "iris: IRIS_TIMEZONE is invalid: must be an IANA time zone"),
        ({"IRIS_LANG": "fr"}, "iris: IRIS_LANG is invalid"),
        ({"IRIS_DATABASE_URL": "mysql://x"}, "iris: IRIS_DATABASE_URL is invalid"),
        (
            {"IRIS_DATABASE_URL": "postgresql+psycopg://iris:pw@127.0.0.1:1/iris"},
            "iris: The database at postgresql+psycopg://iris:***@127.0.0.1:1/iris is unreachable",
        ),
        ({"IRIS_CONFIG": "/nonexistent/iris.yml"}, "iris: IRIS_CONFIG points to /nonexistent/iris.yml"),
    ],
)
def test_serve_refuses_bad_settings_in_one_sentence(
    standin: SlackStandin, tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    env = {k: v for k, v in server_env(standin, tmp_path, **overrides).items() if v != ""}
    line = _one_sentence(run_iris("serve", "--port", "1", env=env, cwd=tmp_path))
    assert line.startswith(expected)
    assert "xoxb-test" not in line and "pw@" not in line


def test_serve_names_the_bad_key_in_iris_yml(standin: SlackStandin, tmp_path: Path) -> None:
    env = server_env(standin, tmp_path)
    Path(env["IRIS_CONFIG"]).write_text("roles:\n  admins: [not-a-user]\n")
    line = _one_sentence(run_iris("serve", env=env, cwd=tmp_path))
    assert line.startswith("iris: iris.yml: roles.admins: 'not-a-user' is not a Slack user ID")


def test_serve_refuses_a_locked_database(standin: SlackStandin, tmp_path: Path) -> None:
    env = server_env(standin, tmp_path)
    holder = sqlite3.connect(tmp_path / "iris.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = _one_sentence(run_iris("serve", env=env, cwd=tmp_path))
    finally:
        holder.close()
    assert "is locked by another process" in line


@pytest.mark.parametrize("port", ["0", "70000"])
def test_demo_refuses_a_port_out_of_range_in_one_sentence(tmp_path: Path, port: str) -> None:
    result = run_iris("demo", "--port", port, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert _one_sentence(result) == (
        f"iris demo: argument --port: '{port}' is not a port between 1 and 65535; see iris demo --help."
    )
    assert result.stdout == ""


def test_db_upgrade_then_audit_prints_the_trail(standin: SlackStandin, tmp_path: Path) -> None:
    env = server_env(standin, tmp_path)
    first = run_iris("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0 and first.stdout.strip().endswith(f"schema empty → {head_revision()}")
    again = run_iris("db", "upgrade", env=env, cwd=tmp_path)
    assert again.stdout.strip().endswith(f"schema {head_revision()} is current")
    with sqlite3.connect(tmp_path / "iris.db") as connection:
        connection.execute(
            "INSERT INTO audit_event (at, actor, action, target, outcome, team_id, channel_id, detail) "
            "VALUES ('2024-12-12 07:00:00.000000', 'U1', 'outbox.retry', 'all', 'refused', 'T1', 'C1', '{}')"
        )
    audit = run_iris("db", "audit", "--since", "2024-12-12", env=env, cwd=tmp_path)
    assert audit.returncode == 0
    rows = audit.stdout.strip().splitlines()
    assert rows[0].startswith("at (UTC)\tactor")
    assert rows[1].split("\t")[:5] == ["2024-12-12T07:00:00+00:00", "U1", "outbox.retry", "all", "refused"]
    later = run_iris("db", "audit", "--since", "2024-12-13", env=env, cwd=tmp_path)
    assert len(later.stdout.strip().splitlines()) == 1


def test_db_audit_rejects_a_bad_date(tmp_path: Path) -> None:
    result = run_iris("db", "audit", "--since", "yesterday-ish", env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 2 and "is not an ISO date" in result.stderr


@pytest.mark.parametrize("args", [["--url", "https://iris.example.org/"], ["--socket-mode"]])
def test_manifest_prints_a_valid_manifest(tmp_path: Path, args: list[str]) -> None:
    result = run_iris("manifest", *args, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(manifest)
    command = manifest["features"]["slash_commands"][0]
    if args[0] == "--url":
        assert command["url"] == "https://iris.example.org/slack/events"
        assert manifest["settings"]["interactivity"]["request_url"] == "https://iris.example.org/slack/events"
    else:
        assert "url" not in command and manifest["settings"]["socket_mode_enabled"] is True


def test_manifest_refuses_a_plain_http_url(tmp_path: Path) -> None:
    result = run_iris("manifest", "--url", "http://insecure", env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert "must be an https:// address" in _one_sentence(result)


def test_an_iris_yml_that_is_not_utf8_is_one_sentence(standin: SlackStandin, tmp_path: Path) -> None:
    env = server_env(standin, tmp_path)
    (tmp_path / "iris.yml").write_bytes(b"channels:\n  default: \xff\xfe\n")
    line = _one_sentence(run_iris("db", "audit", "--since", "2026-12-01", env=env, cwd=tmp_path))
    assert line == "iris: iris.yml is not UTF-8 text (byte 22); save it as UTF-8."


@pytest.mark.parametrize("limit", ["-1", "0", "ten"])
def test_db_audit_refuses_a_limit_below_one(standin: SlackStandin, tmp_path: Path, limit: str) -> None:
    result = run_iris(
        "db",
        "audit",
        "--since",
        "2026-12-01",
        "--limit",
        limit,
        env=server_env(standin, tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert _one_sentence(result) == (
        f"iris db audit: argument --limit: '{limit}' is not a whole number from 1 to 1000000; "
        "see iris db audit --help."
    )
    assert not (tmp_path / "iris.db").exists()


def test_db_audit_shows_a_cut_row_on_one_line_with_its_fingerprint(
    standin: SlackStandin, tmp_path: Path
) -> None:
    env = server_env(standin, tmp_path)
    assert run_iris("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    whole = "line one\tcell\nline two\x00" + "s" * 300
    engine = open_engine(env["IRIS_DATABASE_URL"])
    with freeze_time("2024-12-12 07:00:00"), session_scope(engine) as session:
        audit.record(session, Actor("U1"), Action("rehearsal.start", whole, "refused", {"why": whole}))
    engine.dispose()
    result = run_iris("db", "audit", "--since", "2024-12-12", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.strip().split("\n")
    assert header.endswith("\tcut to fit")
    cells = row.split("\t")
    assert len(cells) == len(header.split("\t"))
    assert cells[3].startswith("line one\\tcell\\nline two\ufffdsss") and cells[3].endswith("…")
    assert f"target: {len(whole)} chars, sha256 {fit.sha256(whole)}" in cells[-1]
    assert f"detail.why: {len(whole)} chars, sha256 {fit.sha256(whole)}" in cells[-1]
