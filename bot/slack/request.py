"""Turning an HTTP request from Slack into a Bolt request, with one parsing bug worked around."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest


def to_bolt_request(body: bytes, headers: dict[str, Any], context: dict[str, Any]) -> AsyncBoltRequest:
    """Build the request Bolt dispatches; raises ValueError for a body that is not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("The request body is not UTF-8 text.") from None
    request = AsyncBoltRequest(body=text, headers=headers, context=context)
    _reparse_form_mentioning_payload(request, text, context)
    return request


def _reparse_form_mentioning_payload(request: AsyncBoltRequest, text: str, context: dict[str, Any]) -> None:
    """Bolt 1.30 treats any form body containing the word "payload" as an interaction.

    `/iris note the payload was bad` then parses to {} and is answered 404. When the form has no
    `payload` field it is a slash command: parse it as one and rebuild the context from it.
    """
    if request.body or not text or text.startswith("{") or "payload" not in text:
        return
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return
    request.body = fields
    request.context = build_async_context(AsyncBoltContext(dict(context)), fields)
