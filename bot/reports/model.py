"""A written report, independent of its form: the Markdown, HTML, JSON and Slack forms lay this out.

Every text here is raw (translated, never escaped): each form escapes all of it in its own way, so
no user text can mean markup in any of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Piece:
    """A run of text: strong (a figure, a title), a person, or a link where it has one."""

    text: str
    strong: bool = False
    url: str | None = None  # Markdown and Slack link it; HTML shows it as text (no <a>)
    user: str | None = None  # a Slack user ID: Slack mentions them, the written forms show `text`


Line = tuple[Piece, ...]


def line(*pieces: Piece | str) -> Line:
    return tuple(piece if isinstance(piece, Piece) else Piece(piece) for piece in pieces)


@dataclass(frozen=True)
class Item:
    line: Line
    children: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Section:
    title: str  # numbered by the forms, as in the brief's report: "1. Background and goal"
    items: tuple[Item, ...]
    numbered: bool = False  # an ordered list (work done, next steps, references) or bullets
    empty: str = ""  # what a section with no items says


@dataclass(frozen=True)
class Report:
    day: date
    lang: str
    title: str
    header: tuple[tuple[str, Line], ...]  # (label, value)
    sections: tuple[Section, ...]
    quiet: str | None = None  # the sentence of a day with nothing recorded
    figures: dict[str, Any] = field(default_factory=dict)  # the day's numbers, for JSON and checks

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["day"] = self.day.isoformat()
        return body

    @property
    def numbered_sections(self) -> list[tuple[int | None, Section]]:
        """The brief numbers every section but the references."""
        numbers: list[tuple[int | None, Section]] = []
        for index, section in enumerate(self.sections, start=1):
            numbers.append((None if index == len(self.sections) else index, section))
        return numbers
