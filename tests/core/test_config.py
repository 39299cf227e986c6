"""Settings and iris.yml: every mistake is one sentence naming the setting, and secrets stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts.routing import ROUTES
from bot.briefings.scheduler import BRIEFINGS
from bot.config import ConfigError, load_iris_yml, load_settings, require_slack_credentials
from commands.registry import config_sections, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "iris.example.yml"


def test_defaults_follow_the_documented_contract() -> None:
    settings = load_settings({})
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.iris_database_url == "sqlite:///iris.db"
    assert (settings.iris_timezone, settings.iris_lang, settings.iris_port) == ("Asia/Seoul", "en", 3000)
    assert settings.socket_mode is False


def test_secrets_are_typed_and_never_printed() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1-secret", "SLACK_SIGNING_SECRET": "shh-very-secret"})
    assert "xoxb-1-secret" not in repr(settings) and "shh-very-secret" not in str(settings)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1-secret"


@pytest.mark.parametrize("given", ["postgresql://iris:pw@db/iris", "postgres://iris:pw@db/iris"])
def test_a_plain_postgresql_url_gets_the_psycopg_driver(given: str) -> None:
    url = load_settings({"IRIS_DATABASE_URL": given}).iris_database_url
    assert url == "postgresql+psycopg://iris:pw@db/iris"


@pytest.mark.parametrize(
    ("environ", "shown"),
    [
        ({"IRIS_DATABASE_URL": "mysql://iris:hunter2@db/iris"}, "(got 'mysql://iris:***@db/iris')."),
        ({"IRIS_DATABASE_URL": "iris:hunter2@db"}, "(got '<hidden>')."),
        ({"IRIS_ALERTMANAGER_URL": "ftp://am:hunter2@am.local/"}, "(got 'ftp://am:***@am.local/')."),
    ],
)
def test_a_url_in_an_error_never_shows_its_password(environ: dict[str, str], shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert str(caught.value).endswith(shown)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("environ", "sentence"),
    [
        ({"IRIS_PORT": "0"}, "IRIS_PORT is invalid: Input should be greater than or equal to 1 (got '0')."),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL is invalid: must be an http:// or https:// URL."),
        (
            {"SLACK_APP_TOKEN": "xoxb-wrong-kind"},
            "SLACK_APP_TOKEN is invalid: must be an app-level token starting with xapp-.",
        ),
    ],
)
def test_invalid_settings_are_named_in_one_sentence(environ: dict[str, str], sentence: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    assert str(caught.value) == sentence


def test_a_token_value_is_never_echoed_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"SLACK_BOT_TOKEN": "xoxp-personal-token-123"})
    assert "xoxp-personal-token-123" not in str(caught.value)


def test_http_mode_needs_the_signing_secret_and_socket_mode_does_not() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        require_slack_credentials(load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}))
    require_slack_credentials(load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}))


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("roles: [1, 2]", "iris.yml: roles: Input should be a valid dictionary or instance of RolesConfig."),
        ("colour: blue", "iris.yml: colour: Extra inputs are not permitted."),
        (
            "routes:\n  - {channel: C0ALERTS, match_re: {severity: '('}}",
            "iris.yml: routes[0].match_re: severity: ",
        ),
        (
            "channels: {default: ops}",
            "iris.yml: channels.default: must be a Slack channel ID such as C0123ABCD.",
        ),
        ("roles: {admins: [U1", "iris.yml is not valid YAML at line 1."),
        ("- just\n- a list", "iris.yml: the top level must be a mapping of keys such as roles and channels."),
    ],
)
def test_iris_yml_mistakes_name_the_key(tmp_path: Path, text: str, sentence: str) -> None:
    path = tmp_path / "iris.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_iris_yml(path, config_sections())
    assert str(caught.value).startswith(sentence)


def test_folders_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "iris.yml"
    path.parent.mkdir()
    path.write_text("folders: {scenarios: rehearsals, checklists: /srv/checklists}\n")
    config, _ = load_iris_yml(path)
    assert config.folders.scenarios == tmp_path / "conf" / "rehearsals"
    assert config.folders.checklists == Path("/srv/checklists")


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    loaded = load_config({"IRIS_CONFIG": str(EXAMPLE)})
    config, text = loaded.iris, EXAMPLE.read_text()
    for section in type(config).model_fields:
        assert f"{section}:" in text
        value = getattr(config, section)
        for key in getattr(type(value), "model_fields", {}):
            assert f"{key}:" in text, f"iris.example.yml does not document {section}.{key}"
    assert config.roles.admins and ROUTES.of(loaded)
    assert BRIEFINGS.of(loaded).grace_seconds == 600


def test_a_features_own_section_is_validated_and_read_back_typed(tmp_path: Path) -> None:
    path = tmp_path / "iris.yml"
    path.write_text("briefings: {grace_seconds: 90}\n")
    assert BRIEFINGS.of(load_config({"IRIS_CONFIG": str(path)})).grace_seconds == 90
    path.write_text("briefings: {grace_seconds: -1}\n")
    with pytest.raises(ConfigError, match=r"^iris\.yml: briefings\.grace_seconds: Input should be greater"):
        load_config({"IRIS_CONFIG": str(path)})


def test_an_iris_yml_that_is_huge_or_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    huge = tmp_path / "iris.yml"
    with huge.open("wb") as file:
        file.truncate(10_000_000)
    with pytest.raises(
        ConfigError, match=r"^iris.yml is larger than 256 kB; is IRIS_CONFIG the right file\?$"
    ):
        load_iris_yml(huge)
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"channels:\n  default: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"^latin.yml is not UTF-8 text \(byte 25\); save it as UTF-8.$"):
        load_iris_yml(latin)
