"""How the Slack stand-in reads requests and writes answers, the way Slack's servers accept them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.slack_standin.model import JsonOrText, Params


def as_params(body: Any) -> Params:
    return body if isinstance(body, dict) else {"_raw": body}


def parse_json(text: str) -> Params:
    try:
        return as_params(json.loads(text))
    except ValueError:
        return as_params(text)


def to_response(status: int, headers: dict[str, str], body: JsonOrText) -> web.Response:
    if isinstance(body, dict):
        return web.json_response(body, status=status, headers=headers)
    return web.Response(text=body, status=status, headers=headers)


async def read_params(request: web.Request) -> Params:
    """Query parameters merged with a JSON, form or multipart body; JSON-string fields stay strings."""
    params: Params = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v.file.read() if isinstance(v, web.FileField) else v for k, v in form.items()})
    return params


async def read_upload(request: web.Request) -> bytes:
    # slack_sdk posts raw bytes without a content type of its own, so only multipart is parsed.
    if request.content_type != "multipart/form-data":
        return await request.read()
    form = await request.post()
    files = [v for v in form.values() if isinstance(v, web.FileField)]
    return files[0].file.read() if files else b""


def bearer_token(request: web.Request, params: Params) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    token = params.get("token")
    return str(token) if token else None
