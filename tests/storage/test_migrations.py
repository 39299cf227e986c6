"""Migrations: applied once, idempotent, and matching the SQLModel tables exactly."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import DatabaseUnavailable, check_reachable, open_engine
from storage.migrate import current_revision, head_revision, upgrade


def test_upgrade_is_idempotent(db: tuple[Engine, str]) -> None:
    engine, url = db
    assert upgrade(engine, url) == (head_revision(), head_revision())
    assert current_revision(engine) == head_revision()


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_a_new_sqlite_file_and_its_folder_are_created(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'iris.db'}"
    engine = open_engine(url)
    assert upgrade(engine, url) == (None, head_revision())
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_unreachable_postgres_is_one_sentence_without_password() -> None:
    url = "postgresql+psycopg://iris:s3cret@127.0.0.1:1/iris"
    with pytest.raises(DatabaseUnavailable) as caught:
        check_reachable(open_engine(url), url)
    message = str(caught.value)
    assert message.startswith("The database at postgresql+psycopg://iris:***@127.0.0.1:1/iris is unreachable")
    assert "s3cret" not in message and "\n" not in message


def test_a_locked_sqlite_database_is_named_as_locked(tmp_path) -> None:
    path = tmp_path / "iris.db"
    url = f"sqlite:///{path}"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailable, match="is locked by another process"):
            upgrade(open_engine(url, busy_timeout_ms=100), url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
