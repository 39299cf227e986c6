"""Logging set-up, with secrets scrubbed from every line (message and traceback) before it is written."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every URL at INFO; keep it quiet so a response_url never lands in the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
