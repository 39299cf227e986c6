"""Alembic environment: runs on the connection that storage.migrate hands over."""

import importlib
import pkgutil

from alembic import context
from sqlmodel import SQLModel

import storage

# Each feature keeps its tables in its own storage module; all of them are on the metadata that
# `alembic revision --autogenerate` compares with, without a hand-kept list to forget one in.
for module in pkgutil.iter_modules(storage.__path__):
    importlib.import_module(f"storage.{module.name}")

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
