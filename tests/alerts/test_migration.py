"""Alert migrations: 0010 finds old groups by their key's hash; 0014 (alert pull) goes up and down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from storage import alerts as repo
from storage.alert_pull import take_lease
from storage.db import open_engine, read_scope, session_scope
from storage.migrate import _foreign_keys_deferred, alembic_config, upgrade
from tests.alerts.test_repo import ingest, payload
from tests.conftest import fresh_postgres_database

BEFORE = "0009_report_indexes"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """An empty database of its own: the session's shared one is already at head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'iris.db'}"
        engine = open_engine(url)
        yield engine, url
        engine.dispose()
        return
    with fresh_postgres_database("iris_mig") as url:
        engine = open_engine(url)
        yield engine, url
        engine.dispose()


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    # SQLite rebuilds the table to alter it, which the alerts' foreign keys refuse while enforced.
    with engine.connect() as connection, _foreign_keys_deferred(connection), connection.begin():
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_groups_stored_before_the_migration_are_found_by_their_hash_after_it(
    blank: tuple[Engine, str],
) -> None:
    engine, url = blank
    migrate(engine, BEFORE)
    with engine.begin() as connection:
        for n, key in enumerate(("{}:a", "{}:b")):
            connection.execute(
                text(
                    "INSERT INTO alert_group (source, group_key, receiver, status, group_labels,"
                    " common_labels, external_url, channel, dirty, version, truncated, first_seen,"
                    " updated_at) VALUES ('alertmanager', :key, '', 'firing', '{}', '{}', '', 'C0INC',"
                    " false, :n, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"key": key, "n": n},
            )
    upgrade(engine, url)
    with read_scope(engine) as session:
        groups = session.exec(repo.select(repo.AlertGroup).order_by(repo.AlertGroup.id)).all()
        assert [(g.group_key_hash, g.omitted_firing, g.omitted_resolved) for g in groups] == [
            (repo.key_hash("{}:a"), 0, 0),
            (repo.key_hash("{}:b"), 0, 0),
        ]
    data = payload()
    data["groupKey"] = "{}:b"
    assert ingest(engine, data).group_id == groups[1].id  # the old row, not a new group

    migrate(engine, BEFORE, down=True)  # and back, for a rollback of IRIS
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alert_group")).scalar() == 2


def test_the_alert_pull_migration_goes_up_and_down(blank: tuple[Engine, str]) -> None:
    engine, url = blank
    upgrade(engine, url)
    with session_scope(engine) as session:
        assert take_lease(session, "default", "a", NOW, NOW + timedelta(seconds=5))
    migrate(engine, "0013_outbox_priority", down=True)
    with engine.connect() as connection:
        assert "alert_pull" not in inspect(connection).get_table_names()
    migrate(engine, "head")
    with session_scope(engine) as session:
        assert take_lease(session, "default", "b", NOW, NOW + timedelta(seconds=5))
