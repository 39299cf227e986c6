"""Migrations: applied once, idempotent, and matching the SQLModel tables exactly."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import storage.outbox  # noqa: F401
from storage import outbox
from storage.db import DatabaseUnavailable, check_reachable, open_engine, read_scope, session_scope
from storage.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
    open_for_reading,
    upgrade,
)
from storage.outbox import NewMessage


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


def test_readers_do_not_wait_for_a_writer_on_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url, busy_timeout_ms=100)
    upgrade(engine, url)
    with session_scope(engine) as writer:
        outbox.enqueue(writer, NewMessage(kind="post", lane="C1", payload={}))  # now holds the write lock
        with read_scope(engine) as reader:
            assert outbox.depth(reader) == 0  # sees the last committed state, without waiting
        assert current_revision(engine) == head_revision()
        with pytest.raises(OperationalError, match="locked"), session_scope(engine) as second_writer:
            outbox.enqueue(second_writer, NewMessage(kind="post", lane="C1", payload={}))


FUTURE_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "9999_rebuild_outbox"
down_revision = "{head}"


def upgrade():
    with op.batch_alter_table("outbox_message", recreate="always") as batch:
        batch.add_column(sa.Column("future", sa.Integer(), nullable=True))
"""


def test_a_sqlite_table_rebuild_keeps_rows_that_refer_to_each_other(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url)
    upgrade(engine, url)
    with session_scope(engine) as session:
        parent = outbox.enqueue(session, NewMessage(kind="post", lane="C1", payload={}))
        outbox.enqueue(session, NewMessage(kind="update", lane="C1", payload={}, ref_id=parent.id))
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "9999_rebuild_outbox.py").write_text(FUTURE_MIGRATION.format(head=head_revision()))
    config = alembic_config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", f"{MIGRATIONS / 'versions'}:{versions}")
    assert upgrade(engine, url, config) == (head_revision(), "9999_rebuild_outbox")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM outbox_message").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_database_newer_than_this_iris_is_refused_in_one_sentence(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url)
    upgrade(engine, url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0042_from_the_future'")
    with pytest.raises(DatabaseUnavailable) as caught:
        upgrade(engine, url)
    assert "has a schema newer than this IRIS knows" in str(caught.value)


def test_reading_commands_refuse_a_missing_file_without_creating_it(tmp_path) -> None:
    missing = tmp_path / "typo" / "iris.db"
    with pytest.raises(DatabaseUnavailable) as caught:
        open_for_reading(f"sqlite:///{missing}")
    assert str(caught.value) == (
        f"There is no database at sqlite:///{missing}: {missing} does not exist; check IRIS_DATABASE_URL."
    )
    assert not missing.parent.exists()


def test_reading_commands_refuse_a_database_iris_never_set_up_or_at_another_schema(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url)
    check_reachable(engine, url)  # an empty file
    with pytest.raises(DatabaseUnavailable, match=r"holds no IRIS schema; check IRIS_DATABASE_URL, or run"):
        open_for_reading(url)
    upgrade(engine, url)
    assert current_revision(open_for_reading(url)) == head_revision()
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0005_briefings'")
    with pytest.raises(DatabaseUnavailable) as caught:
        open_for_reading(url)
    assert f"is at schema 0005_briefings and this iris reads {head_revision()}; run `iris db upgrade`" in str(
        caught.value
    )
