"""`iris manifest`: the repository's manifest.yml with a deployment's URL or Socket Mode filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.i18n import N_

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
EVENTS_PATH = "/slack/events"


class ManifestError(Exception):
    """The manifest cannot be produced: one sentence, an English id marked N_ and the values filling it."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    if not path.is_file():
        raise ManifestError(
            N_("manifest.yml was not found at {path}; run iris from a checkout of IRIS."), path=path
        )
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def render_manifest(
    manifest: dict[str, Any], *, url: str | None, socket_mode: bool, usage_hint: str | None = None
) -> dict[str, Any]:
    """HTTP mode points every request URL at URL/slack/events; Socket Mode removes them.

    `usage_hint`, from the features' declarations, replaces the one in manifest.yml.
    """
    if socket_mode and url is not None:
        raise ManifestError(N_("Give either --url (HTTP mode) or --socket-mode, not both."))
    if not socket_mode and url is None:
        raise ManifestError(
            N_("Give --url https://your-host (where iris serve is reachable) or --socket-mode.")
        )
    events_url = _events_url(url) if url is not None else None
    rendered = yaml.safe_load(yaml.safe_dump(manifest))  # a deep copy
    for command in rendered["features"]["slash_commands"]:
        _set_or_drop(command, "url", events_url, socket_mode)
        if usage_hint is not None:
            command["usage_hint"] = usage_hint
    _set_or_drop(rendered["settings"]["interactivity"], "request_url", events_url, socket_mode)
    rendered["settings"]["socket_mode_enabled"] = socket_mode
    return rendered


def _set_or_drop(section: dict[str, Any], key: str, value: str | None, drop: bool) -> None:
    if drop:
        section.pop(key, None)
    else:
        section[key] = value


def _events_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ManifestError(
            N_("--url must be an https:// address that Slack can reach, not {url!r}."), url=url
        )
    base = parts.path.rstrip("/").removesuffix(EVENTS_PATH)  # a URL given with /slack/events is not doubled
    return f"https://{parts.netloc}{base}{EVENTS_PATH}"


def dump_manifest(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
