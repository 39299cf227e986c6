"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and the local Slack stand-in."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.slack_standin.server import SlackStandin
from commands import registry
from storage.db import open_engine
from storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "IRIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; its URL.

    In CI a missing server fails the run; on a laptop without PostgreSQL those tests are skipped.
    """
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {str(exc.orig).strip()}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_postgres_database("iris_test") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = open_engine(postgres_url)
    upgrade(engine, postgres_url)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Every table each feature declared (commands.registry), so no rows leak into the next test."""
    names = ", ".join(table.__tablename__ for table in registry.tables())  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Engine, str]]:
    """A migrated, empty database: each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'iris.db'}"
        engine = open_engine(url)
        upgrade(engine, url)
        yield engine, url
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    empty_tables(engine)
    yield engine, request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(db: tuple[Engine, str]) -> Engine:
    return db[0]


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    engine = open_engine(url)
    upgrade(engine, url)
    yield engine
    engine.dispose()


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin() as running:
        yield running
