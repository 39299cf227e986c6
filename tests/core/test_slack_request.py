"""Turning Slack's HTTP bodies into Bolt requests, including the text Bolt alone gets wrong."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from bot.slack.request import RecentRequests, signature_error, to_bolt_request
from bot.slack_standin.driver import sign_request


def _form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def test_a_command_mentioning_payload_is_still_a_command() -> None:
    request = to_bolt_request(_form(command="/iris", text="note the payload was bad", user_id="U1"), {}, {})
    assert request.body["text"] == "note the payload was bad"
    assert request.context.user_id == "U1"


def test_an_interaction_payload_is_left_to_bolt() -> None:
    payload = {"type": "block_actions", "user": {"id": "U2"}, "actions": [{"action_id": "checklist_sign"}]}
    request = to_bolt_request(_form(payload=json.dumps(payload)), {}, {})
    assert request.body["type"] == "block_actions"


def test_context_values_from_the_server_are_kept() -> None:
    request = to_bolt_request(_form(command="/iris", text="payload"), {}, {"iris_received": 1.5})
    assert request.context["iris_received"] == 1.5


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValueError, match="not UTF-8"):
        to_bolt_request(b"text=\xff", {}, {})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_form(payload="null"), "not a Slack command or interaction"),
        (_form(payload="[1, 2]"), "not a Slack command or interaction"),
        (_form(payload="{not json"), "not a Slack command or interaction"),
        (b"[" * 100_000 + b"]" * 100_000, "not a Slack command or interaction"),
        (b"1e9999", "not a Slack command or interaction"),
        (_form(payload=json.dumps({"type": 5})), "type is not a string"),
        (
            _form(payload=json.dumps({"type": "block_actions", "actions": [{"action_id": "x"}]})),
            "has no user",
        ),
        (
            _form(payload=json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": "x"})),
            "not a list",
        ),
        (
            _form(payload=json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": [1]})),
            "action_id",
        ),
        (
            _form(payload=json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": "x"})),
            "not an object",
        ),
        (
            _form(
                payload=json.dumps(
                    {
                        "type": "view_submission",
                        "user": {"id": "U1"},
                        "view": {"type": "modal", "state": {"values": []}},
                    }
                )
            ),
            "not a set of input values",
        ),
    ],
)
def test_bodies_slack_never_sends_are_refused_with_a_sentence(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        to_bolt_request(body, {"content-type": "application/json" if body[:1] in b"[1" else ""}, {})


def test_the_signature_is_checked_on_the_raw_body_with_slacks_five_minute_window() -> None:
    body = _form(command="/iris", text="help")
    now = int(time.time())
    assert signature_error("secret", body, sign_request("secret", body, now)) is None
    assert signature_error("other", body, sign_request("secret", body, now)) is not None
    assert signature_error("secret", body + b"x", sign_request("secret", body, now)) is not None
    assert signature_error("secret", body, sign_request("secret", body, now - 301)) is not None
    assert signature_error("secret", body, {}) == "The request is not signed by Slack."
    not_utf8 = b"text=\xff\xfe"  # checked on the bytes; that it is not text is said after
    assert signature_error("secret", not_utf8, sign_request("secret", not_utf8, now)) is None
    assert signature_error("secret", body, sign_request("secret", body, now) | {"X-Slack-Signature": "v0=é"})


def test_recent_requests_answer_a_repeat_within_the_window_and_forget_after_it() -> None:
    recent = RecentRequests(keep_seconds=900, at_most=3)
    assert recent.first_time("a", now=0) and recent.first_time("b", now=1)
    assert not recent.first_time("a", now=899)
    assert recent.first_time("a", now=900.5)  # expired: a replay this old fails the signature check anyway
    assert recent.first_time("c", now=901) and recent.first_time("d", now=902)  # at most 3: "b" is dropped
    assert recent.first_time("b", now=903)
    assert not recent.first_time("d", now=903)
