"""What every /iris subcommand shares: the invocation, Bolt matchers, and the two kinds of failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from bot.deps import Deps
from bot.errors import UserError, log_crash
from bot.i18n import Translator
from bot.outbox import Blocks, respond
from storage.audit import Actor
from storage.outbox import NewMessage

log = logging.getLogger(__name__)

A = TypeVar("A")
COMMAND = "/iris"
MAX_ECHO = 60  # characters of the user's own text quoted back in a message


@dataclass(frozen=True)
class Invocation:
    """One /iris command as Slack sent it, reduced to what handlers use."""

    user_id: str
    team_id: str | None
    channel_id: str | None
    response_url: str
    trigger_id: str | None
    subcommand: str
    rest: str

    @classmethod
    def from_command(cls, command: Mapping[str, Any]) -> Invocation:
        subcommand, rest = split_subcommand(str(command.get("text") or ""))
        return cls(
            user_id=str(command.get("user_id") or ""),
            team_id=command.get("team_id"),
            channel_id=command.get("channel_id"),
            response_url=str(command.get("response_url") or ""),
            trigger_id=command.get("trigger_id"),
            subcommand=subcommand,
            rest=rest,
        )

    @classmethod
    def from_action(cls, body: Mapping[str, Any]) -> Invocation:
        """A button click, reduced to the same shape (its answers go to the action's response_url)."""
        user = body.get("user") or {}
        return cls(
            user_id=str(user.get("id") or ""),
            team_id=(body.get("team") or {}).get("id") or user.get("team_id"),
            channel_id=(body.get("channel") or {}).get("id"),
            response_url=str(body.get("response_url") or ""),
            trigger_id=body.get("trigger_id"),
            subcommand="",
            rest="",
        )

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, team_id=self.team_id, channel_id=self.channel_id)


def split_subcommand(text: str) -> tuple[str, str]:
    """`"Status  retry 3"` → `("status", "retry 3")`; any characters at all are accepted."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1] if len(parts) > 1 else ""


def subcommand_is(*names: str) -> Callable[..., Awaitable[bool]]:
    """A Bolt matcher: this listener takes `/iris <name> …` for any of the names."""
    accepted = frozenset(names)

    async def matches(command: Mapping[str, Any]) -> bool:
        return split_subcommand(str(command.get("text") or ""))[0] in accepted

    return matches


def escape_mrkdwn(text: str) -> str:
    """Escape what Slack's mrkdwn gives meaning to, so no mention or link can be forged."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_user_text(text: str, limit: int = MAX_ECHO) -> str:
    """A user's own words quoted back inside backticks: escaped, short, unable to close the quote."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape_mrkdwn(short).replace("`", "'")


def observe_ack(deps: Deps, context: Mapping[str, Any], subcommand: str) -> None:
    received = context.get("iris_received")
    if received is not None:
        deps.metrics.command_latency.labels(subcommand or "help").observe(time.perf_counter() - received)


def reply(invocation: Invocation, text: str, blocks: Blocks | None = None, source: str = "") -> NewMessage:
    """An ephemeral answer to the person who typed the command, through its response_url."""
    return respond(invocation.response_url, text, blocks, source=source)


async def ack_then_submit(
    ack: Any,
    deps: Deps,
    command: Mapping[str, Any],
    context: Mapping[str, Any],
    parse: Callable[[Translator, str], A],
    work: Callable[[Deps, Invocation, A], NewMessage],
) -> None:
    """The shape of every subcommand: parse (pure), ack at once, then the work on the job runner.

    A parse error is the ack itself, ephemerally; nothing touches the database or the network
    before the ack.
    """
    invocation = Invocation.from_command(command)
    try:
        args = parse(deps.t, invocation.rest)
    except UserError as exc:
        await ack(response_type="ephemeral", text=exc.sentence)
        return
    await ack()
    observe_ack(deps, context, invocation.subcommand)
    job = partial(work, deps, invocation, args)
    deps.jobs.submit(invocation.subcommand, run_for_user, deps, invocation, job)


def run_for_user(deps: Deps, invocation: Invocation, work: Callable[[], NewMessage]) -> None:
    """Run a command's work on the job runner and always answer: the result, a sentence, or a reference."""
    try:
        message = work()
    except UserError as exc:
        message = reply(invocation, exc.sentence, source="error")
    except Exception:
        reference = log_crash(log, f"/iris {invocation.subcommand}")
        message = reply(
            invocation,
            deps.t(
                "Something went wrong inside IRIS and it could not finish this. The operators can find "
                "the details under reference {reference}.",
                reference=reference,
            ),
            source="error",
        )
    deps.outbox.send(message)
