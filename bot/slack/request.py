"""Turning an HTTP request from Slack into a Bolt request: its signature checked on the raw body first,
then parsed (one Bolt parsing bug worked around) and its shape checked, so that nothing unsigned reaches
a parser and nothing malformed reaches a listener."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

SIGNATURE_WINDOW_S = 300  # Slack's five minutes either way
# A signed request passes for five minutes either way of its timestamp; remembered longer, for skew.
REMEMBER_REQUESTS_FOR = timedelta(minutes=30)
INTERACTIONS = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"}
)


def signature_error(
    signing_secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> str | None:
    """Why Slack did not send this body (no or wrong signature, timestamp over 5 minutes off), or None.

    Computed on the bytes as received (slack_sdk's verifier decodes them first, and a body that is not
    UTF-8 would then raise); the text check comes after, in to_bolt_request.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if not timestamp or not signature:
        return "The request is not signed by Slack."
    if not timestamp.isascii() or not timestamp.isdigit():
        return "The request's Slack signature or timestamp is not valid."
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_WINDOW_S:
        return "The request's Slack signature or timestamp is not valid."
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "The request's Slack signature or timestamp is not valid."
    return None


def to_bolt_request(body: bytes, headers: dict[str, Any], context: dict[str, Any]) -> AsyncBoltRequest:
    """Build the request Bolt dispatches; raises ValueError with a sentence for a body Slack never sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("The request body is not UTF-8 text.") from None
    try:
        request = AsyncBoltRequest(body=text, headers=headers, context=context)
        _reparse_form_mentioning_payload(request, text, context)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
        raise ValueError("The request body is not a Slack command or interaction.") from None
    problem = shape_error(request.body)
    if problem is not None:
        raise ValueError(problem)
    return request


def replay_key(body: bytes, parsed: dict[str, Any]) -> str:
    """What identifies this request among everything Slack sends, hashed to a fixed length.

    An Events API delivery is its event_id (Slack's retries re-sign it); anything else is its bytes,
    which always hold a fresh trigger_id, so equal bytes are the same request sent again.
    """
    event_id = parsed.get("event_id")
    if isinstance(event_id, str) and event_id:
        return hashlib.sha256(b"event:" + event_id.encode()).hexdigest()
    return hashlib.sha256(b"body:" + body).hexdigest()


class RecentRequests:
    """The keys of the Slack requests this process accepted lately, so a replay to it is answered at
    once; a replay to another replica is caught by the database before anything acts (commands.kit)."""

    def __init__(self, keep_seconds: float, at_most: int = 200_000) -> None:
        self._keep = keep_seconds
        self._at_most = at_most
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str, now: float | None = None) -> bool:
        """Remember `key`; False when it was already seen within the window. Called on the event loop."""
        moment = time.monotonic() if now is None else now
        while self._expiry and (
            next(iter(self._expiry.values())) <= moment or len(self._expiry) >= self._at_most
        ):
            self._expiry.popitem(last=False)
        if key in self._expiry:
            return False
        self._expiry[key] = moment + self._keep
        return True


def shape_error(body: Any) -> str | None:
    """What makes a parsed body unlike anything Slack sends, or None; listeners may then trust its shape."""
    if not isinstance(body, dict) or not body:
        return "The request body is not a Slack command or interaction."
    kind = body.get("type")
    if kind is None:
        return None  # a slash command's form fields, all strings
    if not isinstance(kind, str):
        return "The payload's type is not a string."
    if kind in INTERACTIONS and not (
        isinstance(body.get("user"), dict) and isinstance(body["user"].get("id"), str)
    ):
        return "The interaction has no user."
    if kind in INTERACTIONS and any(
        body.get(part) is not None and not isinstance(body[part], dict)
        for part in ("team", "channel", "container")
    ):
        return "The interaction's team, channel or container is not an object."
    if kind == "block_actions":
        return _actions_error(body.get("actions"))
    if kind in ("view_submission", "view_closed"):
        return _view_error(body.get("view"))
    return None


def _actions_error(actions: Any) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "The interaction's actions are not a list of actions."
    if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
        return "An action of the interaction has no action_id."
    return None


def _view_error(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "The submitted view is not an object."
    if not isinstance(view.get("type"), str):  # Bolt reads it (workflow steps) before any listener
        return "The submitted view has no type."
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        return "The submitted view's state is not a set of input values."
    return None


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
