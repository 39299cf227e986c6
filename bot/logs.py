"""Logging set-up, with secrets scrubbed from every line (message and traceback) before it is written."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

TOKEN_PATTERN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Line breaks and other control characters would let a logged value forge log lines; an unpaired
# surrogate (from a JSON escape) cannot be written as UTF-8 by any log shipper. Both are escaped.
UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")


def escape_unsafe(text: str) -> str:
    """`text` with control characters and unpaired surrogates written as backslash escapes."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def escape_log_records() -> Callable[[], None]:
    """Every log record's message is escaped (escape_unsafe) as it is made, whichever handler writes
    it; returns how to undo it. A traceback attached to a record keeps its own lines."""
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        escaped = escape_unsafe(message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return record

    logging.setLogRecordFactory(factory)
    return lambda: logging.setLogRecordFactory(previous)


class RedactingFormatter(logging.Formatter):
    """Replace Slack tokens and the configured secrets with a marker, whatever logged them.

    It works on the finished line rather than on the record's message: a traceback is formatted
    after every filter has run, and an exception's text is where a token most often hides.
    """

    def __init__(self, secrets: list[str], fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        # Very short values would blank out ordinary words; real secrets are far longer.
        self._secrets = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        cleaned = TOKEN_PATTERN.sub(lambda m: f"{m.group(1)}-***", text)
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, "***")
        return cleaned


_escaping: list[Callable[[], None]] = []  # installed once per process, however often logging is set up


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    if not _escaping:
        _escaping.append(escape_log_records())
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every URL at INFO; keep it quiet so a response_url never lands in the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
