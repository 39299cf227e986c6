"""`/iris status`: what IRIS is and holds right now; `status retry` puts dead messages back in line.

Status is the core's own feature: it owns the outbox and the audit trail, and counts what every
feature declared it stores.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.errors import UserError
from bot.health import Health, Probe
from bot.i18n import N_, Translator
from bot.status import Inventory, Process, StatusReport, format_uptime, gather_status, retry_dead
from commands.feature import Feature
from commands.kit import (
    COMMAND,
    Action,
    Command,
    Invocation,
    ParseContext,
    escape_mrkdwn,
    no_arguments,
    reply,
    require_role,
)
from storage.audit import AuditEvent
from storage.outbox import NewMessage, OutboxMessage
from storage.replays import SeenRequest

MAX_DEAD_SHOWN = 5
SOURCE = "status"


def parse_retry(context: ParseContext, rest: str) -> list[int] | None:
    """`all` → None (every dead message); `12 15` → those ids."""
    words = rest.split()
    if words == ["all"]:
        return None
    if not words or not all(w.isascii() and w.isdigit() and len(w) <= 12 for w in words):
        raise UserError(
            context.t(
                "Say which dead messages to retry: `{command} status retry 12 15` or "
                "`{command} status retry all`.",
                command=COMMAND,
            )
        )
    return [int(w) for w in words]


def show_status(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    identity = deps.identity
    process = Process(
        deps.started_at,
        deps.config.settings.iris_timezone,
        lambda: identity.known.user_id if identity.known else None,
    )
    probes = deps.services.all_of(Probe)
    text, blocks = render_status(deps.t, gather_status(deps.engine, deps.service(Inventory), process, probes))
    return reply(invocation, text, blocks, source=SOURCE)


def retry(deps: Deps, invocation: Invocation, ids: list[int] | None) -> NewMessage:
    target = "all" if ids is None else ",".join(map(str, ids))
    require_role(deps, invocation, "admins", "outbox.retry", target)
    requeued = retry_dead(deps.engine, ids, invocation.audit("outbox.retry"), deps.clock())
    deps.outbox.wake()  # requeued rows are not sent through send_in, whose commit would wake it
    if not requeued:
        return reply(invocation, deps.t("There were no dead messages to retry."), source=SOURCE)
    shown = ", ".join(f"#{i}" for i in requeued)
    answer = deps.t("Put {count} dead message(s) back in line: {ids}.", count=len(requeued), ids=shown)
    return reply(invocation, answer, source=SOURCE)


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
        *(_health_field(t, health) for health in report.health),
    ]
    stored = "\n".join(f"{t(label)}: *{count}*" for label, count in report.stored)
    blocks: list[Block] = [
        HeaderBlock(text=t("IRIS status")),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]),
        SectionBlock(text=MarkdownTextObject(text=stored)),
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


def _health_field(t: Translator, health: Health) -> str:
    mark = "" if health.ok else ":warning: "
    return f"*{t(health.label)}*\n{mark}{escape_mrkdwn(t(health.message, **health.values))}"


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


STATUS = Command(
    "status",
    (
        Action(
            "", "", N_("Version, uptime, database, outbox and what IRIS stores."), no_arguments, show_status
        ),
        Action(
            "retry",
            "<id> [<id> …] | all",
            N_("Put dead outbox messages back in line (role admins)."),
            parse_retry,
            retry,
        ),
    ),
)

FEATURE = Feature(
    name="status",
    commands=(STATUS,),
    tables=(AuditEvent, OutboxMessage, SeenRequest),
    counted=((N_("Outbox messages"), OutboxMessage), (N_("Audit events"), AuditEvent)),
)
