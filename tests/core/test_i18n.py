"""Every sentence the code shows has a checked Korean translation with the same placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, Translator

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "commands", "storage")
# The local Slack stand-in plays Slack itself: none of its text is IRIS speaking to a person.
STANDIN = ROOT / "bot" / "slack_standin"
# The keywords of scripts/extract_messages.sh: t("…") and deps.t("…"), N_("…"), t.plural("…", "…", n).
KEYWORDS = {"t": None, "N_": None, "plural": (1, 2)}
KO_PO = LOCALES / "ko" / "LC_MESSAGES" / "iris.po"
FIX = "run scripts/extract_messages.sh, then translate them in bot/locale/ko/LC_MESSAGES/iris.po"

Message = str | tuple[str, ...]  # a plural message is (singular, plural)


def extract_used_messages() -> dict[Message, str]:
    """Message ids as the code uses them today, each with its first location: fresh, not the .pot."""
    used: dict[Message, str] = {}
    for name in SOURCE_DIRS:
        found = extract_from_dir(
            ROOT / name, keywords=KEYWORDS, directory_filter=lambda path: Path(path) != STANDIN
        )
        for filename, lineno, message, _comments, _context in found:
            used.setdefault(message, f"{name}/{filename}:{lineno}")
    return used


def load_korean() -> Catalog:
    with KO_PO.open("rb") as handle:
        return read_po(handle, locale="ko")


def placeholders(text: str) -> set[str]:
    """`"{count} of {total!r:>4}"` → `{"{count}", "{total!r:>4}"}`: what `str.format` fills in."""
    found = set()
    for _literal, field, spec, conversion in Formatter().parse(text):
        if field is not None:
            conversion = f"!{conversion}" if conversion else ""
            found.add("{" + field + conversion + (f":{spec}" if spec else "") + "}")
    return found


def forms(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A message or translation as its forms: one, or one per plural form (None means untranslated)."""
    return (value or "",) if value is None or isinstance(value, str) else tuple(value)


def korean_text(korean: Catalog, message: str) -> str:
    text = korean[message].string
    assert isinstance(text, str), f"{message!r} is a plural message"
    return text


@pytest.fixture(scope="module")
def used() -> dict[Message, str]:
    return extract_used_messages()


@pytest.fixture(scope="module")
def korean() -> Catalog:
    return load_korean()


def test_extraction_catches_every_call_style() -> None:
    source = b"""
deps.t("Said through deps.")
self.t("Said through self, {who}.", who=x)
t("Said plainly.")
COUNTED = [(N_("Marked in a table"), Table)]
t.plural("One dead message.", "{n} dead messages.", n)
t(label)  # a variable: its value was marked with N_ where it is defined
"""
    found = [message for _line, message, _comments, _context in extract("python", BytesIO(source), KEYWORDS)]
    assert found == [
        "Said through deps.",
        "Said through self, {who}.",
        "Said plainly.",
        "Marked in a table",
        ("One dead message.", "{n} dead messages."),
    ]


def test_extraction_reads_the_product_code_but_not_the_slack_standin(used: dict[Message, str]) -> None:
    assert "IRIS commands" in used  # commands/help.py: t("IRIS commands")
    assert len(used) >= 20
    assert not [where for where in used.values() if where.startswith("bot/slack_standin/")]


def test_every_message_the_code_uses_has_a_checked_korean_translation(
    used: dict[Message, str], korean: Catalog
) -> None:
    missing = []
    for message, where in used.items():
        entry = korean.get(message)
        if entry is None or not all(forms(entry.string)):
            missing.append(f"  {where}: {message!r}")
        elif entry.fuzzy:  # a guess pybabel update made from a reworded id: a person must check it
            missing.append(f"  {where}: {message!r} (fuzzy)")
    assert not missing, f"{len(missing)} message(s) lack a checked Korean translation; {FIX}:\n" + "\n".join(
        missing
    )


def test_every_korean_translation_keeps_the_placeholders_of_its_id(korean: Catalog) -> None:
    wrong = []
    for entry in korean:
        if not entry.id or not entry.string:
            continue
        expected = set().union(*(placeholders(text) for text in forms(entry.id)))
        for text in forms(entry.string):
            if text and placeholders(text) != expected:
                wrong.append(
                    f"  {entry.id!r}: expects {sorted(expected)}, {text!r} has {sorted(placeholders(text))}"
                )
    assert not wrong, "Korean translations with different placeholders:\n" + "\n".join(wrong)


def test_korean_catalog_declares_korean_with_one_plural_form(korean: Catalog) -> None:
    assert str(korean.locale) == "ko"
    assert korean.plural_forms == "nplurals=1; plural=0;"
    assert korean.charset.lower() == "utf-8"


def test_korean_translator_translates_a_known_message(korean: Catalog) -> None:
    t = Translator("ko")
    assert t("IRIS commands") == korean_text(korean, "IRIS commands")
    assert t("IRIS commands") != "IRIS commands"
    assert any("\uac00" <= char <= "\ud7a3" for char in t("IRIS commands"))  # Hangul syllables


def test_korean_translator_fills_placeholders_in_the_translation(korean: Catalog) -> None:
    message = "`{command} {name}` is not available yet in this version of IRIS."
    said = Translator("ko")(message, command="/iris", name="brief")
    assert said == korean_text(korean, message).format(command="/iris", name="brief")
    assert "`/iris brief`" in said
    assert "{" not in said
    assert said != message.format(command="/iris", name="brief")


def test_english_translator_returns_the_message_ids_themselves() -> None:
    t = Translator("en")
    assert t("IRIS commands") == "IRIS commands"
    assert t("IRIS {version}: up {uptime}.", version="0.1.0", uptime="3m 2s") == "IRIS 0.1.0: up 3m 2s."
    assert t.plural("One dead message.", "{n} dead messages.", 1) == "One dead message."
    assert t.plural("One dead message.", "{n} dead messages.", 3) == "3 dead messages."


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        Translator("fr")


def test_a_message_missing_from_the_korean_catalog_falls_back_to_english(korean: Catalog) -> None:
    message = "A sentence {who} added after the last translation."
    assert message not in korean
    t = Translator("ko")
    assert t(message, who="someone") == "A sentence someone added after the last translation."
    assert t.plural("One new message.", "{n} new messages.", 1) == "One new message."
    assert t.plural("One new message.", "{n} new messages.", 4) == "4 new messages."
