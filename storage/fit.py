"""Values from outside made storable on SQLite and PostgreSQL alike: no NUL, no lone surrogate, no overflow.

PostgreSQL refuses "\\x00" in text and checks every varchar(N); SQLite checks neither. A value cut to
fit keeps the sha256 of the whole, so it can still be matched.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

REPLACEMENT = "\ufffd"  # what Unicode itself uses for a character that cannot be kept
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Fitted(NamedTuple):
    """What is stored, and the whole value's fingerprint when the stored one is not the whole value."""

    shown: str
    digest: dict[str, Any] | None


def clean(text: str) -> str:
    """Text any database stores: NUL and lone surrogates (from JSON's \\u escapes) become U+FFFD."""
    return UNSTORABLE.sub(REPLACEMENT, text)


def sha256(text: str) -> str:
    """The fingerprint of a value exactly as it came, lone surrogates and NULs included."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fit(text: str, size: int) -> Fitted:
    """At most `size` clean characters, an ellipsis marking a cut; the digest says what the whole was."""
    shown = clean(text)
    if len(shown) > size:
        shown = shown[: size - 1] + "…"
    if shown == text:
        return Fitted(shown, None)
    return Fitted(shown, {"sha256": sha256(text), "chars": len(text)})
