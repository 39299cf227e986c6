"""Typed settings from the environment and the optional iris.yml, validated once at start."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MAX_CONFIG_BYTES = 256_000  # iris.yml is a page or two; a bigger file is the wrong file
DEFAULT_DATABASE_URL = "sqlite:///iris.db"
SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
ROLES = ("admins", "release_managers", "approvers", "oncall")
PLAIN_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
URL_SETTINGS = frozenset({"IRIS_DATABASE_URL", "IRIS_ALERTMANAGER_URL"})
S = TypeVar("S")


def N_(message: str) -> str:
    """Marks a sentence for the catalog (scripts/extract_messages.sh); the `iris` command translates."""
    return message


class ConfigError(Exception):
    """A setting is missing or invalid: one sentence naming it.

    `message` is the English sentence id and `values` fill it, so the `iris` command can say it in
    IRIS_LANG (pydantic's own reason inside it stays English); str() is the English sentence.
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


class Settings(BaseSettings):
    """Environment variables, names exactly as documented in the README."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    iris_database_url: str = DEFAULT_DATABASE_URL
    iris_config: Path | None = None
    iris_alert_token: SecretStr | None = None
    iris_alertmanager_url: str | None = None
    iris_timezone: str = "Asia/Seoul"
    iris_lang: Literal["en", "ko"] = "en"
    iris_port: int = Field(default=3000, ge=1, le=65535)

    @field_validator("slack_api_url", "iris_alertmanager_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("iris_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone such as Asia/Seoul") from exc
        return value

    @field_validator("iris_database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql+psycopg://", *PLAIN_POSTGRES_SCHEMES)):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        for scheme in PLAIN_POSTGRES_SCHEMES:
            if value.startswith(scheme):  # Heroku-style and libpq-style URLs name no driver
                return "postgresql+psycopg://" + value.removeprefix(scheme)
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None


class ChannelsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str | None = None
    incidents: str | None = None
    reports: str | None = None
    briefings: str | None = None

    @field_validator("*")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not CHANNEL_ID.match(value):
            raise ValueError("must be a Slack channel ID such as C0123ABCD")
        return value


class RolesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admins: list[str] = []
    release_managers: list[str] = []
    approvers: list[str] = []
    oncall: list[str] = []

    @field_validator("*")
    @classmethod
    def _slack_ids(cls, members: list[str]) -> list[str]:
        for member in members:
            if not SLACK_ID.match(member):
                raise ValueError(f"{member!r} is not a Slack user ID (U…/W…) or user-group ID (S…)")
        return members


class FoldersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: Path = Path("scenarios")
    checklists: Path = Path("checklists")


class OutboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_channel_per_second: float = Field(default=1.0, gt=0, le=10)
    burst: int = Field(default=3, ge=1, le=20)
    max_backoff_seconds: float = Field(default=300.0, ge=1)
    give_up_after_hours: float = Field(default=24.0, gt=0)
    workers: int = Field(default=4, ge=1, le=32)


class IrisConfig(BaseModel):
    """The keys of iris.yml every IRIS has; each feature adds its own (a Section) beside them.

    Every key is optional and documented in iris.example.yml.
    """

    model_config = ConfigDict(extra="forbid")

    channels: ChannelsConfig = ChannelsConfig()
    roles: RolesConfig = RolesConfig()
    folders: FoldersConfig = FoldersConfig()
    outbox: OutboxConfig = OutboxConfig()


@dataclass(frozen=True)
class Section(Generic[S]):
    """A top-level key of iris.yml that one feature owns: its schema, and its value when it is absent."""

    key: str
    schema: Any  # a pydantic model, or a type pydantic validates, such as list[RouteConfig]
    default: Callable[[], S]

    def of(self, config: Config) -> S:
        if self.key not in config.sections:
            raise LookupError(f"iris.yml section {self.key!r} was not loaded: pass its feature's sections")
        return cast(S, config.sections[self.key])


@dataclass(frozen=True)
class Config:
    """Everything configurable, built once by load_config()."""

    settings: Settings
    iris: IrisConfig
    config_path: Path | None
    sections: Mapping[str, Any] = field(default_factory=dict)  # by key, as the features' Sections read them


def describe_error(source: str, error: ValidationError) -> ConfigError:
    """One sentence for the first problem in a pydantic error, naming the setting."""
    first = error.errors()[0]
    parts = (f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
    location = "".join(parts).lstrip(".")
    if source == "env":
        name = location.upper() or "environment"
        return ConfigError(
            N_("{name} is invalid: {reason}{got}."),
            name=name,
            reason=_reason(first),
            got=_shown_input(name, first.get("input")),
        )
    return ConfigError(
        N_("{file}: {where}: {reason}."), file=source, where=location or "top level", reason=_reason(first)
    )


def _shown_input(name: str, got: object) -> str:
    """What the setting was set to, unless it is a secret; URLs lose their password."""
    if got is None or name.startswith("SLACK_") or "TOKEN" in name:
        return ""
    if name in URL_SETTINGS:
        return f" (got {_without_password(str(got))!r})"
    return f" (got {got!r})"


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not even URL-shaped, so we cannot tell where a password would be
        return "<hidden>"


def _reason(error: ErrorDetails) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ").rstrip(".")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    try:
        if environ is None:
            return Settings()
        known = {k: v for k, v in environ.items() if k.lower() in Settings.model_fields}
        values: dict[str, Any] = {k.lower(): v for k, v in known.items()}
        return Settings(**values)
    except ValidationError as exc:
        raise describe_error("env", exc) from None


def load_iris_yml(
    path: Path | None, sections: Sequence[Section[Any]] = ()
) -> tuple[IrisConfig, dict[str, Any]]:
    """iris.yml validated against the core keys and the given sections: (core, each section's value)."""
    schema = _schema(sections)
    if path is None:
        config = schema()
        return config, {section.key: getattr(config, section.key) for section in sections}
    if not path.is_file():
        raise ConfigError(N_("IRIS_CONFIG points to {path}, which is not a readable file."), path=path)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:  # checked before reading, so a huge file is never loaded
            raise ConfigError(
                N_("{file} is larger than {limit} kB; is IRIS_CONFIG the right file?"),
                file=path.name,
                limit=MAX_CONFIG_BYTES // 1000,
            )
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(
            N_("{file} is not UTF-8 text (byte {byte}); save it as UTF-8."),
            file=path.name,
            byte=exc.start + 1,
        ) from None
    except OSError as exc:
        raise ConfigError(
            N_("IRIS_CONFIG points to {path}, which cannot be read ({reason})."),
            path=path,
            reason=exc.strerror,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is None:
            raise ConfigError(N_("{file} is not valid YAML."), file=path.name) from None
        raise ConfigError(
            N_("{file} is not valid YAML at line {line}."), file=path.name, line=mark.line + 1
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            N_("{file}: the top level must be a mapping of keys such as roles and channels."), file=path.name
        )
    try:
        config = schema.model_validate(raw)
    except ValidationError as exc:
        raise describe_error(path.name, exc) from None
    return _resolve_folders(config, path.parent), {
        section.key: getattr(config, section.key) for section in sections
    }


def _schema(sections: Sequence[Section[Any]]) -> type[IrisConfig]:
    if not sections:
        return IrisConfig
    fields: dict[str, Any] = {s.key: (s.schema, Field(default_factory=s.default)) for s in sections}
    return create_model("IrisConfig", __base__=IrisConfig, **fields)


def _resolve_folders(config: IrisConfig, base: Path) -> IrisConfig:
    """Folders in iris.yml are relative to the file, not to wherever iris was started."""
    folders = FoldersConfig(
        scenarios=_under(base, config.folders.scenarios),
        checklists=_under(base, config.folders.checklists),
    )
    return config.model_copy(update={"folders": folders})


def _under(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def load_config(environ: dict[str, str] | None = None, sections: Sequence[Section[Any]] = ()) -> Config:
    """Settings and iris.yml; `sections` are the features' own keys (commands.registry.config_sections)."""
    settings = load_settings(environ)
    iris, values = load_iris_yml(settings.iris_config, sections)
    return Config(settings=settings, iris=iris, config_path=settings.iris_config, sections=values)


def require_slack_credentials(settings: Settings) -> None:
    """`iris serve` needs a bot token, and a signing secret unless it uses Socket Mode."""
    if settings.slack_bot_token is None:
        raise ConfigError(
            N_(
                "SLACK_BOT_TOKEN is not set: create the Slack app from manifest.yml (see docs/setup.md, "
                "'Slack app setup') and export its bot token."
            )
        )
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise ConfigError(
            N_(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's signing secret "
                "(or set SLACK_APP_TOKEN to use Socket Mode)."
            )
        )
