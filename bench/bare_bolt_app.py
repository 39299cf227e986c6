"""The benchmark anchor: a bare Bolt AsyncApp that only acks /iris, on uvicorn + Starlette like IRIS."""

from __future__ import annotations

import argparse
import logging

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
    # Like IRIS: no auth.test call on the ack path.
    return AuthorizeResult(enterprise_id=None, team_id=team_id, bot_token="xoxb-test", bot_user_id="U0BOT")


def create_bolt_app(signing_secret: str) -> AsyncApp:
    app = AsyncApp(
        signing_secret=signing_secret, token=None, authorize=authorize, logger=logging.getLogger("bare.bolt")
    )

    @app.command("/iris")
    async def handle_iris(ack: AsyncAck) -> None:
        await ack()

    return app


def create_server(signing_secret: str) -> Starlette:
    handler = AsyncSlackRequestHandler(create_bolt_app(signing_secret))

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True, help="Slack signing secret the requests are signed with")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # Same server settings as `iris serve` (bot/runtime.py): default loop and HTTP parser, no access log.
    uvicorn.run(
        create_server(args.secret),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
