"""Fixtures for the briefing tests: the shared database fixtures and a translator."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.i18n import Translator


@pytest.fixture
def brief_engine(engine: Engine) -> Engine:
    """The `engine` fixture (SQLite and PostgreSQL, emptied of every feature's rows)."""
    return engine


@pytest.fixture
def t() -> Translator:
    return Translator("en")
