"""manifest.yml in the repository validates against Slack's own app-manifest schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from bot.slack.manifest import MANIFEST, ManifestError, load_manifest, render_manifest
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


@pytest.mark.parametrize(
    "url", ["https://iris.example.net", "https://iris.example.net/", "https://iris.example.net/slack/events"]
)
def test_the_events_url_is_never_doubled(url: str) -> None:
    rendered = render_manifest(load_manifest(), url=url, socket_mode=False)
    assert rendered["settings"]["interactivity"]["request_url"] == "https://iris.example.net/slack/events"


@pytest.mark.parametrize(
    ("url", "socket_mode", "sentence"),
    [
        ("", False, "--url must be an https:// address that Slack can reach, not ''."),
        ("http://iris.example.net", False, "--url must be an https:// address"),
        ("https://iris.example.net", True, "Give either --url (HTTP mode) or --socket-mode, not both."),
        (None, False, "Give --url https://your-host"),
    ],
)
def test_a_url_slack_cannot_use_is_one_sentence(url: str | None, socket_mode: bool, sentence: str) -> None:
    with pytest.raises(ManifestError) as refused:
        render_manifest(load_manifest(), url=url, socket_mode=socket_mode)
    assert str(refused.value).startswith(sentence)
