"""manifest.yml in the repository validates against Slack's own app-manifest schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from bot.slack.manifest import MANIFEST, load_manifest, render_manifest
from tests.e2e.conftest import SCHEMA, SHARED_SCHEMA


def test_manifest_yml_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(MANIFEST.read_text()))


def test_the_vendored_schema_is_the_shared_copy_unchanged() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"no shared schema at {SHARED_SCHEMA} to compare with (a plain checkout has none)")
    assert SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_manifest_declares_the_one_command_interactivity_and_needed_scopes() -> None:
    manifest = load_manifest()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/iris" and "help" in command["usage_hint"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "usergroups:read"} <= scopes


def test_rendering_does_not_change_the_loaded_manifest() -> None:
    manifest = load_manifest()
    render_manifest(manifest, url="https://iris.example.net", socket_mode=False)
    assert manifest == load_manifest()
