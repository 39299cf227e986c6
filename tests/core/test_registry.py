"""The feature registry is the only list: every table, command word, section and doc line comes from it."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import tomllib
from pathlib import Path

from sqlmodel import SQLModel

import storage
from bot.config import IrisConfig
from bot.i18n import Translator
from bot.slack.manifest import load_manifest
from commands.help import usage_lines
from commands.kit import usage_sentence
from commands.registry import (
    FEATURES,
    all_commands,
    command_table,
    config_sections,
    counted,
    tables,
    usage_hint,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _every_table() -> set[str]:
    for module in pkgutil.iter_modules(storage.__path__):
        importlib.import_module(f"storage.{module.name}")
    return set(SQLModel.metadata.tables)


def test_every_table_belongs_to_exactly_one_feature() -> None:
    declared = [table.__tablename__ for table in tables()]  # type: ignore[attr-defined]
    assert len(declared) == len(set(declared)), "a table is declared by two features"
    assert set(declared) == _every_table(), "storage has a table no feature declares (or the reverse)"


def test_what_status_counts_is_among_each_features_own_tables() -> None:
    for feature in FEATURES:
        assert {table for _, table in feature.counted} <= set(feature.tables), feature.name
    assert len(counted()) >= len([f for f in FEATURES if f.tables])  # every feature with rows is counted


CORE = "status"  # the core's own feature: the outbox and audit tables live with their repositories


def test_each_feature_has_one_name_in_every_layer() -> None:
    for feature in FEATURES:
        assert importlib.util.find_spec(f"commands.{feature.name}") is not None, feature.name
        if feature.name != CORE:
            assert {table.__module__ for table in feature.tables} <= {f"storage.{feature.name}"}, feature.name
        if feature.services or feature.background:
            assert importlib.util.find_spec(f"bot.{feature.name}") is not None, feature.name


def test_command_words_are_unique_and_leave_help_alone() -> None:
    words = [command.word for command in all_commands()]
    assert len(words) == len(set(words)) and "help" not in words and "" not in words


def test_each_features_iris_yml_section_has_its_own_key() -> None:
    keys = [section.key for section in config_sections()]
    assert len(keys) == len(set(keys)) and not set(keys) & set(IrisConfig.model_fields)


def test_help_usage_and_the_readme_table_say_the_same_from_one_source() -> None:
    t = Translator("en")
    helped = {synopsis for synopsis, _, _ in usage_lines(all_commands())}
    for command in all_commands():
        sentence = usage_sentence(t, command)
        for synopsis, _ in command.synopses():
            assert synopsis in helped and f"`/iris {synopsis}`" in sentence
    assert command_table() in README.read_text(encoding="utf-8"), "run scripts/command_table.py"
    [command] = load_manifest()["features"]["slash_commands"]
    assert command["usage_hint"] == usage_hint(), "manifest.yml's usage_hint: every subcommand word"


def test_the_import_contracts_hold_each_feature_to_its_layer() -> None:
    """pyproject.toml's layers name each feature's face and engine (import-linter takes no wildcards
    there); a feature left out would escape the checks, so this says which line to add."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {module.strip() for layer in layers for module in layer.replace(":", "|").split("|")}
    engines = next(c for c in contracts if c["name"].startswith("Engines"))["source_modules"]
    for feature in FEATURES:
        assert f"commands.{feature.name}" in named, f"add commands.{feature.name} to the faces' layer"
        if importlib.util.find_spec(f"bot.{feature.name}") is not None:
            assert f"bot.{feature.name}" in named, f"add bot.{feature.name} to the engines' layer"
            assert f"bot.{feature.name}" in engines, f"add bot.{feature.name} to the engines' contract"
