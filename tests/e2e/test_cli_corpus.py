"""The bad-input corpus of the `iris` command (tests/fixtures/bad_input/cli.json), each case a real process.

Every case must end with its exit code and one sentence on standard error (no traceback), create
nothing it was only asked to read, and write no row; cases that touch a database run on SQLite and
on PostgreSQL, and those with a Korean sentence run once more with IRIS_LANG=ko.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from bot.cli import build_parser
from commands import registry
from storage.db import open_engine
from storage.migrate import upgrade
from tests.conftest import POSTGRES_ADMIN_URL, empty_tables
from tests.e2e.test_cli import run_iris

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_input" / "cli.json"
CASES: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
UNREACHABLE = {
    "sqlite": "sqlite:////proc/iris-nowhere/iris.db",  # /proc refuses new folders, even to root
    "postgresql": "postgresql+psycopg://iris:secret@127.0.0.1:1/iris",  # nothing listens on port 1
}


def _params() -> Iterator[Any]:
    for case in CASES:
        backends = ["none"] if case["db"] == "none" else ["sqlite", "postgresql"]
        for backend in backends:
            for lang in ["en", "ko"] if "ko" in case else ["en"]:
                marks = [pytest.mark.postgres] if backend == "postgresql" else []
                ident = f"{case['name']}-{backend}-{lang}"
                yield pytest.param(case, backend, lang, marks=marks, id=ident)


@pytest.fixture(scope="session")
def bare_postgres_url() -> Iterator[str]:
    """A PostgreSQL database with no IRIS schema, as a mistyped IRIS_DATABASE_URL would name."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"iris_bare_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _database(request: pytest.FixtureRequest, case: dict[str, Any], backend: str, folder: Path) -> str:
    """IRIS_DATABASE_URL for the case, its database prepared as the case says."""
    sqlite_url = f"sqlite:///{folder / 'iris.db'}"
    kind = case["db"]
    if kind == "unreachable":
        return UNREACHABLE[backend]
    if backend in ("none", "sqlite"):
        if kind == "migrated":
            engine = open_engine(sqlite_url)
            upgrade(engine, sqlite_url)
            engine.dispose()
        return sqlite_url
    if kind == "absent":
        return str(request.getfixturevalue("bare_postgres_url"))
    empty_tables(request.getfixturevalue("postgres_engine"))
    return str(request.getfixturevalue("postgres_url"))


def _make_files(folder: Path, files: dict[str, dict[str, Any]]) -> None:
    for name, spec in files.items():
        path = folder / name
        if spec.get("dir"):
            path.mkdir()
            continue
        if "hex" in spec:
            path.write_bytes(bytes.fromhex(spec["hex"]))
        elif "repeat" in spec:
            piece, times = spec["repeat"]
            path.write_text(piece * times, encoding="utf-8")
        else:
            path.write_text(spec["text"], encoding="utf-8")
        if "mode" in spec:
            path.chmod(int(spec["mode"], 8))


def _rows(url: str) -> dict[str, int] | None:
    """How many rows each IRIS table holds; None when the database holds no IRIS table at all."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).exists():
        return None  # opening it would create it
    engine: Engine = open_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            tables = [t for t in registry.tables() if t.__tablename__ in present]  # type: ignore[attr-defined]
            if not tables:
                return None
            return {
                t.__tablename__: connection.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[attr-defined]
                for t in tables
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize(("case", "backend", "lang"), list(_params()))
def test_bad_input_gets_one_sentence_and_changes_nothing(
    request: pytest.FixtureRequest, tmp_path: Path, case: dict[str, Any], backend: str, lang: str
) -> None:
    if case.get("not_as_root") and os.geteuid() == 0:
        pytest.skip("root reads any file")
    folder = tmp_path / "work"
    folder.mkdir()
    url = _database(request, case, backend, folder)
    _make_files(folder, case.get("files", {}))
    before_files = sorted(p.name for p in folder.iterdir())
    before_rows = _rows(url) if case["db"] in ("absent", "migrated") else None
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "IRIS_DATABASE_URL": url, "IRIS_LANG": lang}
    env |= {key: value.replace("{tmp}", str(folder)) for key, value in case.get("env", {}).items()}

    result = run_iris(*case["args"], env=env, cwd=folder)

    assert result.returncode == case["exit"], result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= case.get("lines", 1), result.stderr
    expected = case["stderr"][backend] if isinstance(case["stderr"], dict) else case["stderr"]
    korean = case.get("ko")
    korean = korean[backend] if isinstance(korean, dict) else korean
    assert (korean if lang == "ko" else expected) in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in folder.iterdir()) == before_files  # no iris.db, no report, nothing
    if case["db"] in ("absent", "migrated"):
        assert _rows(url) == before_rows  # no audit row, no data row; an absent schema stays absent


def _every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:  # argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _every_parser(child)


def test_every_option_of_every_command_has_a_help_text() -> None:
    for parser in _every_parser(build_parser()):
        for action in parser._actions:
            # A group of subcommands is described by each subcommand's own line in the listing.
            described = (
                action._choices_actions if isinstance(action, argparse._SubParsersAction) else [action]
            )
            for each in described:
                assert each.help, f"{parser.prog} {'/'.join(each.option_strings) or each.dest} has no help"


def test_help_follows_iris_lang(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "IRIS_LANG": "ko"}
    result = run_iris("report", "--help", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("사용법: iris report")
    assert "출력하지 않고 이 파일에 씁니다" in result.stdout  # --out
    assert "이 도움말을 보여 주고 끝냅니다" in result.stdout  # argparse's own -h
