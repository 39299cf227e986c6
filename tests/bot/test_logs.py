"""Secrets never reach the log, whoever logged them."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactSecrets


@pytest.mark.parametrize(("message", "args"), [
    ("calling Slack with %s", ("xoxb-123-456-abcDEF",)),
    ("app token xapp-1-A0-123-abc in use", ()),
    ("secret was %s", ("my-signing-secret-value",)),
])
def test_tokens_and_configured_secrets_are_scrubbed(message: str, args: tuple[str, ...]) -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    assert RedactSecrets(["my-signing-secret-value"]).filter(record) is True
    shown = record.getMessage()
    assert "123-456" not in shown and "A0-123" not in shown and "my-signing-secret-value" not in shown
    assert "***" in shown


def test_ordinary_messages_are_left_alone() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "outbox %d sent", (7,), None)
    RedactSecrets([]).filter(record)
    assert record.getMessage() == "outbox 7 sent"
