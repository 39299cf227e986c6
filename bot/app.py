"""create_app(deps): the Bolt app with every /iris listener, buildable again by any test."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from commands.registry import register_all

log = logging.getLogger(__name__)


class HideUnusedTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and then warns that our client wins; that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def create_app(deps: Deps) -> AsyncApp:
    settings = deps.config.settings
    bolt_log = logging.getLogger("iris.bolt")
    # Loggers are process-wide while apps are not: a test building many apps must not pile filters up.
    if not any(isinstance(f, HideUnusedTokenWarning) for f in bolt_log.filters):
        bolt_log.addFilter(HideUnusedTokenWarning())
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = AsyncApp(
        signing_secret=secret or "",
        authorize=_authorizer(deps),
        client=AsyncWebClient(base_url=settings.slack_api_url),
        request_verification_enabled=not settings.socket_mode,
        logger=bolt_log,
    )
    register_all(app, deps)
    app.error(_listener_crashed)
    return app


def _authorizer(deps: Deps):  # type: ignore[no-untyped-def]
    """Authorize from what IRIS already knows: no auth.test call may sit on the ack path."""
    token = deps.config.settings.slack_bot_token
    bot_token = token.get_secret_value() if token else None

    async def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        identity = deps.identity.known
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or (identity.team_id if identity else None),
            bot_token=bot_token,
            bot_user_id=identity.user_id if identity else None,
            bot_id=identity.bot_id if identity else None,
            user_id=user_id,
        )

    return authorize


async def _listener_crashed(error: Exception, body: dict[str, Any]) -> None:
    # Listeners catch their own failures; reaching here is a bug, logged with its traceback.
    log.error("unhandled error in a Slack listener: %r", error, exc_info=error)
