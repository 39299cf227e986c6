"""Write scopes on one SQLite database take turns on this process's lock; PostgreSQL's do not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from storage.db import open_engine, read_scope, session_scope


@pytest.fixture
def quick_sqlite(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite engine whose writers give up after 0.1 s (the busy timeout)."""
    engine = open_engine(f"sqlite:///{tmp_path / 'iris.db'}", busy_timeout_ms=100)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def holding_a_write(engine: Engine, release: threading.Event) -> tuple[threading.Thread, threading.Event]:
    """A thread that opens a write scope, writes, and keeps it open until `release`."""
    inside = threading.Event()

    def write() -> None:
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=write)
    thread.start()
    assert inside.wait(10)
    return thread, inside


def test_a_second_writer_queues_at_the_start_of_its_scope_and_then_writes(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'iris.db'}")  # the usual 5 s busy timeout
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    release = threading.Event()
    first, _ = holding_a_write(engine, release)
    entered = threading.Event()

    def second() -> None:
        with session_scope(engine) as session:
            entered.set()
            session.execute(text("INSERT INTO t VALUES (2)"))

    waiting = threading.Thread(target=second)
    waiting.start()
    # Queued on the process's lock before its first statement, not sleeping in SQLite's busy handler.
    assert not entered.wait(0.2)
    release.set()
    first.join(10)
    waiting.join(10)
    assert entered.is_set()
    with read_scope(engine) as session:
        assert session.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]
    engine.dispose()


def test_a_writer_kept_waiting_past_the_busy_timeout_fails_as_sqlite_would(quick_sqlite: Engine) -> None:
    release = threading.Event()
    first, _ = holding_a_write(quick_sqlite, release)
    try:
        with (
            pytest.raises(OperationalError, match="database is locked"),
            session_scope(quick_sqlite) as session,
        ):
            session.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        release.set()
        first.join(10)
    with read_scope(quick_sqlite) as session:
        assert session.execute(text("SELECT n FROM t")).scalars().all() == [1]  # nothing half-written


def test_readers_do_not_wait_for_a_writer(quick_sqlite: Engine) -> None:
    release = threading.Event()
    first, _ = holding_a_write(quick_sqlite, release)
    try:
        with read_scope(quick_sqlite) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0  # not committed yet
    finally:
        release.set()
        first.join(10)


@pytest.mark.postgres
def test_postgresql_writers_are_not_queued_in_the_process(postgres_engine: Engine) -> None:
    both_inside = threading.Barrier(2, timeout=10)

    def write() -> None:
        with session_scope(postgres_engine):
            both_inside.wait()  # passes only if the two scopes are open at the same time

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert not both_inside.broken
