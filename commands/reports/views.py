"""Block Kit for the report: its sections folded to fit one Slack message, and the written forms as text."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import Translator
from bot.reports.model import Item, Line, Piece, Report
from commands.kit import escape_mrkdwn

POST_ACTION, MARKDOWN_ACTION, HTML_ACTION = "report_post", "report_markdown", "report_html"
ITEMS_SHOWN = 8  # per section; the rest is counted, and always in the Markdown file
SECTION_CHARS = 2900  # under Slack's 3000 characters a section
CODE_CHARS = 2800  # a written form shown as code, per section block
MAX_CODE_BLOCKS = 45
Rendered = tuple[str, list[dict[str, Any]]]


def mrkdwn(pieces: Line) -> str:
    return "".join(_piece(piece) for piece in pieces)


def _piece(piece: Piece) -> str:
    if piece.user:
        return f"<@{piece.user}>"
    text = escape_mrkdwn(" ".join(piece.text.splitlines()))
    if piece.url:
        text = f"<{piece.url}|{text.replace('|', '¦')}>"
    return f"*{text}*" if piece.strong and text.strip() else text


def render_report(t: Translator, report: Report, *, buttons: str | None = None) -> Rendered:
    """The report in one message: every section, each folded to ITEMS_SHOWN items and one block;
    with `buttons`, the preview's three buttons carrying that value (what the report was asked with)."""
    header = " · ".join(f"*{escape_mrkdwn(label)}*: {mrkdwn(value)}" for label, value in report.header)
    blocks: list[Block] = [
        HeaderBlock(text=report.title[:150]),
        ContextBlock(elements=[MarkdownTextObject(text=header)]),
    ]
    if report.quiet:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=escape_mrkdwn(report.quiet))))
    for number, section in report.numbered_sections:
        title = f"{number}. {section.title}" if number else section.title
        lines = [
            _item(item, section.numbered, index) for index, item in enumerate(section.items[:ITEMS_SHOWN], 1)
        ]
        if len(section.items) > ITEMS_SHOWN:
            lines.append(
                "_" + t("and {n} more in the Markdown file", n=len(section.items) - ITEMS_SHOWN) + "_"
            )
        body = "\n".join(lines) or escape_mrkdwn(section.empty)
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=_fit(f"*{escape_mrkdwn(title)}*\n{body}", t)))
        )
    if buttons is not None:
        blocks.append(_buttons(t, buttons))
    fallback = t(
        "{title}: {date}", title=report.title, date=report.header[0][1][0].text if report.header else ""
    )
    return fallback, [block.to_dict() for block in blocks]


def _item(item: Item, numbered: bool, index: int) -> str:
    marker = f"{index}." if numbered else "•"
    children = "".join(f"\n      ◦ {mrkdwn(child)}" for child in item.children)
    return f"{marker} {mrkdwn(item.line)}{children}"


def _fit(text: str, t: Translator) -> str:
    """Whole lines only, so no `<link|` is cut open; what is left out is in the Markdown file."""
    if len(text) <= SECTION_CHARS:
        return text
    kept: list[str] = []
    for part in text.split("\n"):
        if sum(len(k) + 1 for k in kept) + len(part) > SECTION_CHARS - 80:
            break
        kept.append(part)
    return "\n".join([*kept, "_" + t("and more in the Markdown file") + "_"])


def _buttons(t: Translator, value: str) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(text=t("Post to channel"), action_id=POST_ACTION, value=value, style="primary"),
            ButtonElement(text=t("Markdown"), action_id=MARKDOWN_ACTION, value=value),
            ButtonElement(text=t("HTML"), action_id=HTML_ACTION, value=value),
        ]
    )


def render_code(t: Translator, title: str, text: str) -> Rendered:
    """A written form shown privately as code, to copy; a very long one says where the whole of it is."""
    chunks = [text[i : i + CODE_CHARS] for i in range(0, len(text), CODE_CHARS)] or [""]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{escape_mrkdwn(title)}*"))]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=f"```{escape_mrkdwn(chunk)}```"))
        for chunk in chunks[:MAX_CODE_BLOCKS]
    ]
    if len(chunks) > MAX_CODE_BLOCKS:
        note = t("Too long to show here: `/iris report post` attaches the whole file to the report's thread.")
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return title, [block.to_dict() for block in blocks]
