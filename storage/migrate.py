"""Schema migrations with Alembic, configured in code so no alembic.ini is needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from storage.db import (
    N_,
    SQLITE_BEGIN_OPTION,
    DatabaseUnavailable,
    check_reachable,
    explain_operational_error,
    open_engine,
    safe_url,
)

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same in every IRIS process sharing one PostgreSQL.
UPGRADE_LOCK_KEY = 0x1215_1717


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision(config: AlembicConfig | None = None) -> str:
    head = ScriptDirectory.from_config(config or alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None for an empty database."""
    reader = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    with reader.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def open_for_reading(url: str) -> Engine:
    """An engine for a command that only reads (`iris report`, `iris db audit`, `iris checklist verify`).

    It refuses, in one sentence, what would otherwise end in a traceback or a surprise: a SQLite file
    that does not exist (a mistyped IRIS_DATABASE_URL would create an empty one), a database IRIS
    never set up, and one at another schema version than this iris.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.exists():
            raise DatabaseUnavailable(
                N_("There is no database at {url}: {path} does not exist; check IRIS_DATABASE_URL."),
                url=safe_url(url),
                path=path,
            )
    engine = open_engine(url)
    check_reachable(engine, url)
    revision, head = current_revision(engine), head_revision()
    if revision is None:
        raise DatabaseUnavailable(
            N_(
                "The database at {url} holds no IRIS schema; check IRIS_DATABASE_URL, "
                "or run `iris db upgrade` to set it up."
            ),
            url=safe_url(url),
        )
    if revision != head:
        raise DatabaseUnavailable(
            N_(
                "The database at {url} is at schema {revision} and this iris reads {head}; "
                "run `iris db upgrade` with the newer of the two."
            ),
            url=safe_url(url),
            revision=revision,
            head=head,
        )
    return engine


def upgrade(engine: Engine, url: str, config: AlembicConfig | None = None) -> tuple[str | None, str]:
    """Apply pending migrations; several replicas starting at once take turns on PostgreSQL."""
    config = config or alembic_config()
    try:
        with engine.connect() as connection, _foreign_keys_deferred(connection), connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            before = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            _check_foreign_keys(connection)
    except OperationalError as exc:
        raise explain_operational_error(exc, url) from None
    except CommandError as exc:
        raise _explain_command_error(exc, url, config) from None
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            N_("Migrating the database at {url} failed and was rolled back: {reason}."),
            url=safe_url(url),
            reason=str(getattr(exc, "orig", exc)).strip().splitlines()[0],
        ) from None
    return before, head_revision(config)


@contextmanager
def _foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """SQLite rebuilds a table to alter it; with foreign keys enforced that fails on referencing rows.

    The PRAGMA only works outside a transaction, so it is set on the raw connection before the
    migration begins, checked by _check_foreign_keys before commit, and restored afterwards.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise SQLAlchemyError(f"the migration left {len(broken)} rows pointing at missing rows")


def _explain_command_error(exc: CommandError, url: str, config: AlembicConfig) -> DatabaseUnavailable:
    if "Can't locate revision" in str(exc):
        return DatabaseUnavailable(
            N_(
                "The database at {url} has a schema newer than this IRIS knows "
                "(this IRIS ends at {head}); run the newer IRIS or restore a backup."
            ),
            url=safe_url(url),
            head=head_revision(config),
        )
    return DatabaseUnavailable(
        N_("Migrating the database at {url} failed: {reason}."),
        url=safe_url(url),
        reason=str(exc).splitlines()[0],
    )
