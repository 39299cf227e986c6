"""The report's written forms: Markdown shaped like the brief's report, HTML for pasting, and JSON.

Both text forms come from Jinja2 templates (bot/reports/templates/). The HTML uses only p, strong,
br, hr, h3, ol, ul and li, with no attributes and no links (a URL is shown as text), and escapes
everything; the Markdown escapes every character Markdown gives meaning to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.reports.model import Line, Piece, Report

TEMPLATES = Path(__file__).with_name("templates")
HTML_TAGS = frozenset({"p", "strong", "br", "hr", "h3", "ol", "ul", "li"})
# What could start markup inside a line (each line of text follows a list marker or a label).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_text(text: str) -> str:
    """Raw text for Markdown: every character that could start markup is escaped, lines kept whole."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return " ".join(escaped.splitlines())


def md_line(pieces: Line) -> str:
    return "".join(_md_piece(piece) for piece in pieces)


def _md_piece(piece: Piece) -> str:
    text = md_text(piece.text)
    if piece.url:
        text = f"[{text}]({piece.url.replace(' ', '%20').replace(')', '%29')})"
    return f"**{text}**" if piece.strong and text.strip() else text


def html_line(pieces: Line) -> Markup:
    return Markup("").join(_html_piece(piece) for piece in pieces)


def _html_piece(piece: Piece) -> Markup:
    text = escape(" ".join(piece.text.splitlines()))
    if piece.url and piece.url != piece.text:
        text = Markup("{} ({})").format(text, piece.url)  # a URL as text: no <a>, no attributes
    return Markup("<strong>{}</strong>").format(text) if piece.strong else text


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False) if autoescape else False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters.update(md=md_line, md_text=md_text, html=html_line)
    return env


_MARKDOWN = _environment(autoescape=False).get_template("report.md.j2")
_HTML = _environment(autoescape=True).get_template("report.html.j2")


def render_markdown(report: Report) -> str:
    return _MARKDOWN.render(report=report)


def render_html(report: Report) -> str:
    return _HTML.render(report=report)


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
