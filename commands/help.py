"""`/iris help`, a bare `/iris`, and the answer to anything IRIS does not know: usage, ephemerally.

Every line comes from the features' own Command tables, the same ones that dispatch the commands and
that the README's command table is checked against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.i18n import N_, Translator
from commands.kit import (
    COMMAND,
    Command,
    escape_mrkdwn,
    observe_ack,
    quote_user_text,
    split_subcommand,
    subcommand_is,
)

HELP_LINE = ("help", N_("Show this list."))
SECTION_CHARS = 2900  # under Slack's 3000 characters a section


def usage_lines(commands: Sequence[Command]) -> list[tuple[str, str, bool]]:
    """(synopsis, summary, available) for help itself and every action of every command, in order."""
    lines = [(*HELP_LINE, True)]
    for command in commands:
        lines += [(synopsis, summary, command.available) for synopsis, summary in command.synopses()]
    return lines


def render_help(t: Translator, commands: Sequence[Command], lead: str | None = None) -> dict[str, Any]:
    """The ack body: usage of every subcommand, shown only to the person who asked."""
    lines = [_usage_line(t, *line) for line in usage_lines(commands)]
    blocks: list[Block] = [HeaderBlock(text=t("IRIS commands"))]
    if lead:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=lead)))
    blocks += [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in _chunks(lines)]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=t(
                        "Anything after {command} is read as a subcommand and its arguments.", command=COMMAND
                    )
                )
            ]
        )
    )
    fallback = (lead + "\n" if lead else "") + t("IRIS commands") + "\n" + "\n".join(lines)
    return {"response_type": "ephemeral", "text": fallback, "blocks": [b.to_dict() for b in blocks]}


def _usage_line(t: Translator, synopsis: str, summary: str, available: bool) -> str:
    line = f"`{COMMAND} {escape_mrkdwn(synopsis)}` — {t(summary)}"
    return line if available else line + " _" + t("(not available yet)") + "_"


def _chunks(lines: list[str]) -> list[str]:
    chunks: list[str] = [""]
    for line in lines:
        if chunks[-1] and len(chunks[-1]) + len(line) + 1 > SECTION_CHARS:
            chunks.append("")
        chunks[-1] = f"{chunks[-1]}\n{line}" if chunks[-1] else line
    return chunks


def answer_unknown(t: Translator, commands: Sequence[Command], word: str) -> dict[str, Any]:
    if word in {command.word for command in commands if not command.available}:
        lead = t(
            "`{command} {name}` is not available yet in this version of IRIS.", command=COMMAND, name=word
        )
    else:
        lead = t(
            "IRIS does not know `{command} {name}`. These are the commands it knows:",
            command=COMMAND,
            name=quote_user_text(word),
        )
    return render_help(t, commands, lead)


def register_help(app: AsyncApp, deps: Deps, commands: Sequence[Command]) -> None:
    """Registered first: `/iris`, `/iris help`. The answer is the ack itself, built once."""
    help_body = render_help(deps.t, commands)

    @app.command(COMMAND, matchers=[subcommand_is("help", "")])
    async def handle_help(ack: AsyncAck, context: Mapping[str, Any]) -> None:
        await ack(**help_body)
        observe_ack(deps, context, "help")


def register_fallback(app: AsyncApp, deps: Deps, commands: Sequence[Command]) -> None:
    """Registered last: Bolt runs the first matching listener, so this sees only unknown text
    and the subcommands of features that are not available yet."""

    @app.command(COMMAND)
    async def handle_unknown(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        word = split_subcommand(str(command.get("text") or ""))[0]
        await ack(**answer_unknown(deps.t, commands, word))
        observe_ack(deps, context, "unknown")
