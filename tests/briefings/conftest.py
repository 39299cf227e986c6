"""Fixtures for the briefing tests: the shared database fixtures, with the briefing tables emptied too."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from bot.i18n import Translator


@pytest.fixture
def brief_engine(engine: Engine) -> Engine:
    """The `engine` fixture (SQLite and PostgreSQL); PostgreSQL is shared, so empty the briefing tables."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(
                text("TRUNCATE briefing_answer, briefing_firing, briefing RESTART IDENTITY CASCADE")
            )
    return engine


@pytest.fixture
def t() -> Translator:
    return Translator("en")
