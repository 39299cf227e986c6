"""Turning Slack's HTTP bodies into Bolt requests, including the text Bolt alone gets wrong."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.slack.request import to_bolt_request


def _form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def test_a_command_mentioning_payload_is_still_a_command() -> None:
    request = to_bolt_request(_form(command="/iris", text="note the payload was bad", user_id="U1"), {}, {})
    assert request.body["text"] == "note the payload was bad"
    assert request.context.user_id == "U1"


def test_an_interaction_payload_is_left_to_bolt() -> None:
    payload = {"type": "block_actions", "user": {"id": "U2"}, "actions": []}
    request = to_bolt_request(_form(payload=json.dumps(payload)), {}, {})
    assert request.body["type"] == "block_actions"


def test_context_values_from_the_server_are_kept() -> None:
    request = to_bolt_request(_form(command="/iris", text="payload"), {}, {"iris_received": 1.5})
    assert request.context["iris_received"] == 1.5


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValueError, match="not UTF-8"):
        to_bolt_request(b"text=\xff", {}, {})
