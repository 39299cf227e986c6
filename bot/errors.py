"""The kinds of failure: sentences for people, refusals from engines, and crashes logged under a reference."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Sequence


class UserError(Exception):
    """Something the user can fix; the message is an already translated sentence shown ephemerally."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class Refused(Exception):
    """An engine says no; `message` is an English sentence id, translated with `values` where it is shown.

    Engines know no language and no Slack: they raise this, and the command kit turns it into the
    person's sentence exactly as it does a UserError.
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


BAD_INPUT = 2  # the exit code of every refusal on the command line


class CliError(Exception):
    """A sentence for the terminal; the `iris` command translates it (IRIS_LANG) and exits with code 2.

    Like Refused, `message` is an English sentence id marked with N_ and `values` fill it once translated.
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


def problems_in_terminal(heading: str, problems: Sequence[str]) -> int:
    """A file that does not parse, on standard error with code 2: one problem on the heading's own line
    (the usual case: missing, unreadable, too large), several each on a line of its own below it."""
    if len(problems) == 1:
        print(f"{heading} {problems[0]}", file=sys.stderr)
        return BAD_INPUT
    print(heading, file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return BAD_INPUT


def new_reference() -> str:
    """A short code a user can quote and an operator can grep for in the logs."""
    return "E-" + secrets.token_hex(3).upper()


def log_crash(logger: logging.Logger, what: str) -> str:
    """Log the exception being handled with a fresh reference, and return the reference."""
    reference = new_reference()
    logger.exception("%s failed [ref %s]", what, reference)
    return reference
