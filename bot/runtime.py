"""The composition root: settings → database → deps and the features' services → Bolt app → server.

Everything here loops over commands.registry.FEATURES; no feature is named in this module.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from datetime import datetime

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from bot.app import create_app
from bot.config import Config, ConfigError, Settings
from bot.deps import Deps, Services
from bot.i18n import N_, Translator
from bot.jobs import JobRunner
from bot.logs import configure_logging
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.permissions import Roles
from bot.server import create_server
from bot.slack.api import SlackGateway
from bot.slack.identity import IdentityCache
from bot.slack.poster import OutboxPoster, PosterSettings
from bot.slack.request import REMEMBER_REQUESTS_FOR
from bot.status import Inventory
from commands import registry
from commands.feature import Background
from storage import outbox as outbox_repo
from storage import replays
from storage.clock import utcnow
from storage.db import check_reachable, open_engine, read_scope, session_scope
from storage.migrate import upgrade

log = logging.getLogger(__name__)
IDENTITY_REFRESH_JOB = "iris:identity-refresh"
FORGET_REQUESTS_JOB = "iris:forget-seen-requests"
HTTP_STOP_TIMEOUT_S = 5
SOCKET_CLOSE_TIMEOUT_S = 3.0
# After HTTP's 5 s and Socket Mode's 3 s, what is left of a 30 s kill grace period for the rest.
DRAIN_BUDGET_S = 20.0
JOBS_STOP_TIMEOUT_S = 10.0
POSTER_STOP_TIMEOUT_S = 10.0
POSTER_STOP_AT_LEAST_S = 2.0  # even when the budget is spent, the poster may finish what it is sending
# Slack's answers meaning the token itself is bad: retrying cannot help, a person must act.
REJECTED_APP_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
    }
)


def prepare_database(url: str) -> Engine:
    """Open the database and apply pending migrations; raises DatabaseUnavailable with a sentence."""
    engine = open_engine(url)
    check_reachable(engine, url)
    before, after = upgrade(engine, url)
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)
    return engine


def build_deps(
    config: Config, engine: Engine, *, clock: Callable[[], datetime] = utcnow
) -> tuple[Deps, OutboxPoster]:
    """The core's deps, then each feature's services built from them, in FEATURES order."""
    settings = config.settings
    assert settings.slack_bot_token is not None
    metrics = Metrics()
    slack = SlackGateway(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, metrics)
    poster = OutboxPoster(engine, slack, PosterSettings.from_config(config.iris.outbox), clock=clock)
    core = Deps(
        config=config,
        engine=engine,
        t=Translator(settings.iris_lang),
        metrics=metrics,
        slack=slack,
        identity=IdentityCache(slack),
        outbox=Outbox(engine, poster.wake, clock),
        jobs=JobRunner(metrics),
        roles=Roles(config.iris.roles, slack.usergroup_members),
        clock=clock,
        started_at=time.monotonic(),
        services=Services().plus(Inventory(registry.counted())),
    )
    metrics.watch_outbox(lambda: _outbox_counts(engine))
    return replace(core, services=registry.build_services(core)), poster


def _outbox_counts(engine: Engine) -> dict[str, int]:
    with read_scope(engine) as session:
        return outbox_repo.count_by_status(session)


class Running:
    """What runs beside the HTTP server: the outbox poster, the scheduler, the features' background
    work and Socket Mode."""

    def __init__(self, deps: Deps, poster: OutboxPoster, bolt_app: AsyncApp) -> None:
        self.deps = deps
        self.poster = poster
        self.bolt_app = bolt_app
        self._stop = threading.Event()
        self._poster_thread = threading.Thread(
            target=poster.run, args=(self._stop,), name="iris-outbox", daemon=True
        )
        self.scheduler = BackgroundScheduler(timezone=deps.config.settings.iris_timezone)
        self.parts: list[Background] = registry.backgrounds(deps, self.scheduler)
        self._socket: AsyncSocketModeHandler | None = None
        self._socket_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._poster_thread.start()
        self.scheduler.add_job(
            self.deps.identity.check,
            "interval",
            minutes=5,
            id=IDENTITY_REFRESH_JOB,
            replace_existing=True,
            next_run_time=datetime.now(self.scheduler.timezone),
        )
        self.scheduler.add_job(
            self._forget_seen_requests, "interval", minutes=1, id=FORGET_REQUESTS_JOB, replace_existing=True
        )
        for part in self.parts:
            await asyncio.to_thread(part.start)
        self.scheduler.start()
        app_token = self.deps.config.settings.slack_app_token
        if app_token is not None:
            self._socket = AsyncSocketModeHandler(self.bolt_app, app_token.get_secret_value())
            # Connected in the background: slack-sdk retries a failing connection for ever, so
            # awaiting it here would keep the port closed and make the process deaf to SIGTERM.
            self._socket_task = asyncio.create_task(self._connect_socket(), name="iris-socket-mode")

    def _forget_seen_requests(self) -> None:
        """Slack requests too old to pass the signature check again need no remembering."""
        try:
            with session_scope(self.deps.engine) as session:
                replays.forget_before(session, utcnow() - REMEMBER_REQUESTS_FOR)
        except SQLAlchemyError as exc:  # the database away: the next minute's run forgets them
            log.warning("could not forget old Slack request keys: %s", str(exc).splitlines()[0])

    async def _connect_socket(self) -> None:
        assert self._socket is not None
        await self._socket.connect_async()
        log.info("connected to Slack over Socket Mode")

    async def stop(self) -> None:
        await self._stop_socket()
        await asyncio.to_thread(self._drain_and_stop)

    async def _stop_socket(self) -> None:
        if self._socket_task is not None:
            self._socket_task.cancel()  # a no-op once connected; ends endless reconnecting otherwise
            await asyncio.gather(self._socket_task, return_exceptions=True)
        if self._socket is None:
            return
        try:
            await asyncio.wait_for(self._socket.close_async(), SOCKET_CLOSE_TIMEOUT_S)
        except Exception as exc:  # stopping goes on: the WebSocket dies with the process anyway
            log.warning("closing the Socket Mode connection failed: %r", exc)

    def _drain_and_stop(self) -> None:
        """Let running jobs finish (their answers reach the outbox), then stop delivering cleanly.

        Every wait takes its share of one budget, so the whole stop fits inside a usual 30 s kill
        grace period; the poster's close() always runs, because it hands claimed messages back to
        other replicas.
        """
        deadline = time.monotonic() + DRAIN_BUDGET_S

        def left(at_most: float) -> float:
            return max(0.0, min(at_most, deadline - time.monotonic()))

        self.scheduler.shutdown(wait=False)
        for part in reversed(self.parts):
            part.close()
        self.deps.jobs.shutdown(timeout=left(JOBS_STOP_TIMEOUT_S))
        for part in reversed(self.parts):
            part.stop(left(DRAIN_BUDGET_S))
        self._stop.set()
        self.poster.wake()
        waited = max(POSTER_STOP_AT_LEAST_S, left(POSTER_STOP_TIMEOUT_S))
        self._poster_thread.join(timeout=waited)
        if self._poster_thread.is_alive():
            log.warning("the outbox poster did not stop within %.0f s; releasing its claims anyway", waited)
        self.poster.close()
        self.deps.slack.close()
        self.deps.engine.dispose()


def make_lifespan(running: Running) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await running.start()
        # Everything built at start lives as long as the process: out of the collector's sight, so a
        # full collection while serving walks only what requests made (a pause of tens of ms less).
        gc.collect()
        gc.freeze()
        log.info("IRIS is serving")
        try:
            yield
        finally:
            await running.stop()
            log.info("IRIS stopped; undelivered messages stay in the outbox for the next start")

    return lifespan


def serve(config: Config, *, host: str, port: int) -> None:
    """`iris serve`: blocks until SIGINT/SIGTERM, then stops cleanly."""
    configure_logging(secrets=_secrets(config))
    check_app_token(config.settings)
    engine = prepare_database(config.settings.iris_database_url)
    deps, poster = build_deps(config, engine)
    bolt_app = create_app(deps)
    running = Running(deps, poster, bolt_app)
    app = create_server(deps, bolt_app, registry.endpoints(deps), lifespan=make_lifespan(running))
    # Slack's requests finish within its 3 s ack window; 5 s leaves the rest of a 30 s grace
    # period to the bounded job and poster stops.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=HTTP_STOP_TIMEOUT_S,
        lifespan="on",
    )


def check_app_token(settings: Settings) -> None:
    """With Socket Mode, ask Slack once whether the app-level token is accepted.

    slack-sdk's Socket Mode client retries a rejected token for ever, so without this a revoked
    token means a bot that never serves; here it stops start-up with one sentence instead.
    """
    if settings.slack_app_token is None:
        return
    client = WebClient(base_url=settings.slack_api_url, timeout=10, retry_handlers=[])
    try:
        client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if error in REJECTED_APP_TOKEN_ERRORS:
            raise ConfigError(
                N_(
                    "SLACK_APP_TOKEN was rejected by Slack ({error}): create a new app-level token with "
                    "the connections:write scope (see docs/setup.md, 'Slack app setup') and export it."
                ),
                error=error,
            ) from None
        log.warning("checking SLACK_APP_TOKEN: Slack answered %s; starting anyway", error or "an error")
    except (SlackRequestError, OSError) as exc:  # Slack unreachable now is no reason not to start
        log.warning("checking SLACK_APP_TOKEN: Slack is unreachable (%s); starting anyway", exc)


def _secrets(config: Config) -> list[str]:
    s = config.settings
    values = [s.slack_bot_token, s.slack_signing_secret, s.slack_app_token, s.iris_alert_token]
    return [v.get_secret_value() for v in values if v is not None]
