"""`/iris status`: what IRIS is and holds right now; `status retry` puts dead messages back in line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import Translator
from bot.permissions import require_role
from bot.status import StatusReport, format_uptime, gather_status
from commands.kit import (
    COMMAND,
    Invocation,
    ack_then_submit,
    escape_mrkdwn,
    quote_user_text,
    reply,
    subcommand_is,
)
from storage import audit, outbox
from storage.audit import Action
from storage.db import session_scope
from storage.outbox import NewMessage

MAX_DEAD_SHOWN = 5


@dataclass(frozen=True)
class StatusArgs:
    retry: list[int] | None = None  # ids to requeue; [] means every dead message; None: just show

    @property
    def wants_retry(self) -> bool:
        return self.retry is not None


def parse_status_args(t: Translator, rest: str) -> StatusArgs:
    words = rest.split()
    if not words:
        return StatusArgs()
    if words[0].lower() != "retry":
        raise UserError(
            t(
                "`{command} status` takes nothing, or `retry <id>` or `retry all`; got `{text}`.",
                command=COMMAND,
                text=quote_user_text(rest),
            )
        )
    targets = words[1:]
    if targets == ["all"]:
        return StatusArgs(retry=[])
    if not targets or not all(w.isdigit() for w in targets):
        raise UserError(
            t(
                "Say which dead messages to retry: `{command} status retry 12 15` or "
                "`{command} status retry all`.",
                command=COMMAND,
            )
        )
    return StatusArgs(retry=[int(w) for w in targets])


def render_status(t: Translator, report: StatusReport) -> tuple[str, list[dict[str, Any]]]:
    pending = report.outbox.get("pending", 0) + report.outbox.get("sending", 0)
    dead = report.outbox.get("dead", 0)
    fields = [
        t("*Version*\n{version}", version=report.version),
        t("*Uptime*\n{uptime}", uptime=format_uptime(report.uptime_seconds)),
        t(
            "*Database*\n{backend}, schema {revision}",
            backend=report.backend,
            revision=report.schema_revision or "-",
        ),
        t("*Outbox*\n{pending} waiting, {dead} dead", pending=pending, dead=dead),
        t("*Slack*\n{who}", who=f"<@{report.bot_user_id}>" if report.bot_user_id else t("not verified yet")),
        t("*Time zone*\n{zone}", zone=report.timezone),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=t("IRIS status")),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]),
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join(f"{t(label)}: *{count}*" for label, count in report.stored)
            )
        ),
    ]
    if report.dead_letters:
        blocks.append(_dead_letters_block(t, report))
    text = t(
        "IRIS {version}: up {uptime}, {backend}, outbox {pending} waiting and {dead} dead.",
        version=report.version,
        uptime=format_uptime(report.uptime_seconds),
        backend=report.backend,
        pending=pending,
        dead=dead,
    )
    return text, [b.to_dict() for b in blocks]


def _dead_letters_block(t: Translator, report: StatusReport) -> Block:
    lines = [
        t("Dead messages (never delivered; `{command} status retry <id>` puts one back):", command=COMMAND)
    ]
    for letter in report.dead_letters[:MAX_DEAD_SHOWN]:
        lines.append(
            f"• #{letter.id} {letter.kind} → `{escape_mrkdwn(letter.lane[:40])}`: "
            f"{escape_mrkdwn(letter.reason[:200])}"
        )
    return ContextBlock(elements=[MarkdownTextObject(text="\n".join(lines))])


def show_status(deps: Deps, invocation: Invocation) -> NewMessage:
    text, blocks = render_status(deps.t, gather_status(deps))
    return reply(invocation, text, blocks, source="status")


def retry_dead(deps: Deps, invocation: Invocation, ids: list[int]) -> NewMessage:
    target = "all" if not ids else ",".join(map(str, ids))
    require_role(deps.engine, deps.roles, deps.t, invocation.actor, "admins", "outbox.retry", target)
    with session_scope(deps.engine) as session:
        requeued = outbox.requeue_dead(session, ids or None, deps.clock())
        audit.record(
            session,
            invocation.actor,
            Action(name="outbox.retry", target=target, detail={"requeued": requeued}),
        )
    deps.outbox.wake()
    if not requeued:
        return reply(invocation, deps.t("There were no dead messages to retry."), source="status")
    return reply(
        invocation,
        deps.t(
            "Put {count} dead message(s) back in line: {ids}.",
            count=len(requeued),
            ids=", ".join(f"#{i}" for i in requeued),
        ),
        source="status",
    )


def status_work(deps: Deps, invocation: Invocation, args: StatusArgs) -> NewMessage:
    if args.wants_retry:
        return retry_dead(deps, invocation, args.retry or [])  # [] requeues every dead message
    return show_status(deps, invocation)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND, matchers=[subcommand_is("status")])
    async def handle_status(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        await ack_then_submit(ack, deps, command, context, parse_status_args, status_work)
