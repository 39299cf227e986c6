"""The one translation function: every sentence a person reads goes through it (gettext catalogs)."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locale")
DOMAIN = "iris"
LANGUAGES = ("en", "ko")


def load_catalog(lang: str) -> gettext.NullTranslations:
    """Compile the .po catalog in memory, so the repository carries no binary .mo files."""
    if lang == "en":
        return gettext.NullTranslations()  # message ids are the English sentences
    po_path = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Mark a message id for extraction where it is defined; translate it where it is shown."""
    return message


@cache
def translator(lang: str) -> Translator:
    """The one translator of a language in this process: the catalog is compiled once."""
    return Translator(lang)


class Translator:
    """`t("Hello, {name}.", name=x)` translates, then fills the placeholders."""

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._catalog = load_catalog(lang)

    def __call__(self, message: str, **values: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self._catalog.ngettext(singular, plural, n)
        return text.format(n=n, **values)
