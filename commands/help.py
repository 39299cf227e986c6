"""`/iris help`, a bare `/iris`, and the answer to anything IRIS does not know: usage, ephemerally."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.i18n import N_, Translator
from commands.kit import (
    COMMAND,
    escape_mrkdwn,
    observe_ack,
    quote_user_text,
    split_subcommand,
    subcommand_is,
)


@dataclass(frozen=True)
class Usage:
    name: str
    synopsis: str
    summary: str  # an English message id, translated when rendered
    available: bool


USAGE = [
    Usage("help", "help", N_("Show this list."), True),
    Usage(
        "status",
        "status [retry <id>|all]",
        N_("Version, uptime, database, outbox and what IRIS stores."),
        True,
    ),
    Usage(
        "rehearse",
        "rehearse <scenario> [runs=N] [dry-run] | list | status [id] | abort <id>",
        N_("Rehearse a change under injected HTTP faults."),
        True,
    ),
    Usage(
        "checklist",
        "checklist [templates|start|show|diff|export] …",
        N_("Walk a release checklist with named sign-offs."),
        True,
    ),
    Usage(
        "brief",
        "brief [add|list|edit|cancel|done] …",
        N_("Schedule briefings and milestones with reminders."),
        True,
    ),
    Usage(
        "alert-test",
        "alert-test [timeout=SECONDS]",
        N_("Send synthetic alerts through the alert path and time them."),
        True,
    ),
    Usage("incidents", "incidents", N_("List the open alert groups."), True),
    Usage("note", "note <text>", N_("Add a note to today's report."), False),
    Usage("report", "report [date] [md|html] [ko|en]", N_("Write the day's report."), False),
]
KNOWN = frozenset(u.name for u in USAGE)


def render_help(t: Translator, lead: str | None = None) -> dict[str, Any]:
    """The ack body: usage of every subcommand, shown only to the person who asked."""
    lines = [_usage_line(t, usage) for usage in USAGE]
    blocks: list[Block] = [HeaderBlock(text=t("IRIS commands"))]
    if lead:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=lead)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
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


def _usage_line(t: Translator, usage: Usage) -> str:
    line = f"`{COMMAND} {escape_mrkdwn(usage.synopsis)}` — {t(usage.summary)}"
    return line if usage.available else line + " _" + t("(not available yet)") + "_"


def answer_unknown(t: Translator, subcommand: str) -> dict[str, Any]:
    if subcommand in KNOWN:
        lead = t(
            "`{command} {name}` is not available yet in this version of IRIS.",
            command=COMMAND,
            name=subcommand,
        )
    else:
        lead = t(
            "IRIS does not know `{command} {name}`. These are the commands it knows:",
            command=COMMAND,
            name=quote_user_text(subcommand),
        )
    return render_help(t, lead)


def register(app: AsyncApp, deps: Deps) -> None:
    help_body = render_help(deps.t)

    @app.command(COMMAND, matchers=[subcommand_is("help", "")])
    async def handle_help(ack: AsyncAck, context: Mapping[str, Any]) -> None:
        await ack(**help_body)
        observe_ack(deps, context, "help")


def register_fallback(app: AsyncApp, deps: Deps) -> None:
    """Registered last: Bolt runs the first matching listener, so this sees only unknown text."""

    @app.command(COMMAND)
    async def handle_unknown(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        subcommand = split_subcommand(str(command.get("text") or ""))[0]
        await ack(**answer_unknown(deps.t, subcommand))
        observe_ack(deps, context, "unknown")
