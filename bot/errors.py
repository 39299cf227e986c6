"""The two kinds of failure: sentences for people, and crashes logged under a short reference."""

from __future__ import annotations

import logging
import secrets


class UserError(Exception):
    """Something the user can fix; the message is an already translated sentence shown ephemerally."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def new_reference() -> str:
    """A short code a user can quote and an operator can grep for in the logs."""
    return "E-" + secrets.token_hex(3).upper()


def log_crash(logger: logging.Logger, what: str) -> str:
    """Log the exception being handled with a fresh reference, and return the reference."""
    reference = new_reference()
    logger.exception("%s failed [ref %s]", what, reference)
    return reference
