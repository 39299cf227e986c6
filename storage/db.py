"""Engines and sessions: SQLite (WAL, busy timeout) by default, PostgreSQL for several replicas."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, select

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BEGIN_OPTION = "iris_sqlite_begin"
POSTGRES_CONNECT_TIMEOUT_S = 5
# One per SQLite engine (by its pool, which engine.execution_options() copies share): the lock this
# process's writers queue on, and how long one waits for it (the busy timeout).
_WRITERS: WeakKeyDictionary[Any, tuple[threading.RLock, float]] = WeakKeyDictionary()


def N_(message: str) -> str:
    """Marks a sentence for the catalog (scripts/extract_messages.sh); storage translates nothing."""
    return message


class DatabaseUnavailable(Exception):
    """The database cannot be used: one sentence for an operator.

    `message` is the English sentence id and `values` fill it, so the `iris` command can say it in
    IRIS_LANG; str() is the English sentence, for logs and /readyz.
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


def backend_name(engine: Engine) -> str:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def open_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for the URL; SQLite files (and their folder) are created on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, busy_timeout_ms)
    # A blackholed host would otherwise hang start-up and /readyz for the kernel's TCP timeout.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def _sqlite_engine(url: str, database: str | None, busy_timeout_ms: int) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                N_(
                    "The database at {url} cannot be created: the folder {folder} cannot be made "
                    "({reason}); check IRIS_DATABASE_URL."
                ),
                url=safe_url(url),
                folder=folder,
                reason=exc.strerror or exc,
            ) from None
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})
    _WRITERS[engine.pool] = (threading.RLock(), busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below decides how to begin
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock when the transaction starts: one that read first and wrote
        # later would otherwise fail at once with "database is locked" under contention, without
        # waiting for the busy timeout. Read-only scopes (read_scope) begin deferred and never wait.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with _one_writer(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def _one_writer(engine: Engine) -> Iterator[None]:
    """On SQLite, this process's writers take turns on a lock instead of in SQLite's busy handler,
    which sleeps up to 100 ms between tries: a webhook's transaction waited that long behind the
    outbox poster's short ones. Another process (an `iris` command) still waits in the busy handler.
    A wait longer than the busy timeout fails as SQLite's own would: "database is locked"."""
    if engine.dialect.name != "sqlite":
        yield
        return
    lock, timeout = _WRITERS.setdefault(engine.pool, (threading.RLock(), SQLITE_BUSY_TIMEOUT_MS / 1000))
    if not lock.acquire(timeout=timeout):
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
    try:
        yield
    finally:
        lock.release()


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for reading only: on SQLite it does not take the write lock."""
    reader = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    # Closing (not rolling back) ends the transaction and keeps loaded rows readable afterwards.
    with Session(reader, expire_on_commit=False) as session:
        yield session


def check_reachable(engine: Engine, url: str) -> None:
    """Raise DatabaseUnavailable with a clear sentence when the database cannot be used."""
    try:
        # Deferred, like read_scope: a readiness probe must not queue behind (or block) a writer.
        with engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"}).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise explain_operational_error(exc, url) from None
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            N_("The database at {url} cannot be used: {reason}."), url=safe_url(url), reason=_first_line(exc)
        ) from None


def explain_operational_error(exc: OperationalError, url: str) -> DatabaseUnavailable:
    message = _first_line(exc)
    if "locked" in message:
        return DatabaseUnavailable(
            N_(
                "The database at {url} is locked by another process; "
                "stop the other iris process or wait for it to finish."
            ),
            url=safe_url(url),
        )
    return DatabaseUnavailable(
        N_("The database at {url} is unreachable: {reason}."), url=safe_url(url), reason=message
    )


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0].rstrip(".") if str(original).strip() else type(exc).__name__


Row = TypeVar("Row", bound=SQLModel)


def rows_between(
    session: Session, model: type[Row], column: Any, start: datetime, end: datetime
) -> list[Row]:
    """The rows of `model` whose `column` lies in [start, end), oldest first (ties by id): a day's rows."""
    query = (
        select(model).where(col(column) >= start, col(column) < end).order_by(col(column), col(model.id))  # type: ignore[attr-defined]
    )
    return list(session.exec(query).all())
