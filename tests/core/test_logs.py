"""Secrets never reach the log, whoever logged them and wherever in the line they appear."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFormatter, escape_log_records

SECRET = "my-signing-secret-value"


def _format(message: str, args: tuple[object, ...] = ()) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    return RedactingFormatter([SECRET]).format(record)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the redacting formatter into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter([SECRET]))
    logger = logging.getLogger("tests.logs.captured")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("calling Slack with %s", ("xoxb-123-456-abcDEF",)),
        ("app token xapp-1-A0-123-abc in use", ()),
        ("secret was %s", (SECRET,)),
    ],
)
def test_tokens_and_configured_secrets_are_scrubbed(message: str, args: tuple[object, ...]) -> None:
    shown = _format(message, args)
    assert "123-456" not in shown and "A0-123" not in shown and SECRET not in shown
    assert "***" in shown


def test_ordinary_messages_are_left_alone() -> None:
    assert _format("outbox %d sent", (7,)).endswith("t: outbox 7 sent")


def test_a_token_inside_a_logged_exception_is_scrubbed(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"Slack refused xoxb-999-888-leakyTOKEN and {SECRET}")
    except RuntimeError:
        logger.exception("calling Slack failed")
    written = stream.getvalue()
    assert "Traceback" in written and "RuntimeError: Slack refused xoxb-***" in written
    assert "999-888" not in written and SECRET not in written


def test_a_logged_value_cannot_forge_a_line_or_break_utf8(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    restore = escape_log_records()
    try:
        logger.warning("refused a click from channel %s", "C1\n2026-12-07 INFO bot: forged\x00\ud800")
    finally:
        restore()
    written = stream.getvalue()
    assert written.count("\n") == 1 and "C1\\n2026-12-07 INFO bot: forged\\x00\\ud800" in written
    written.encode("utf-8")  # a lone surrogate would raise here
