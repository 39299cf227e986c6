"""The Slack command kit every feature uses, so no feature writes glue another already wrote.

The invocation, subcommand dispatch from a table (and the usage generated from it), the ack → job →
answer flow for commands, buttons and forms, the one crash sentence, roles and audits, quoting, and
Slack dates.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.deps import Deps
from bot.errors import Refused, UserError, log_crash
from bot.i18n import Translator
from bot.outbox import Blocks, respond
from bot.permissions import record_refusal
from bot.permissions import require_role as _require_role
from storage import outbox as outbox_repo
from storage import replays
from storage.audit import Actor, Audit
from storage.clock import utcnow
from storage.db import read_scope, session_scope
from storage.fit import clean
from storage.outbox import NewMessage

log = logging.getLogger(__name__)

A = TypeVar("A")
COMMAND = "/iris"
MAX_ECHO = 60  # characters of the user's own text quoted back in a message
MAX_SLACK_ID = 32  # user, team and channel ids: Slack's are about 11 characters; the columns hold 32
Answer = Callable[[str], NewMessage | None]  # a sentence for the person → the message that tells them


@dataclass(frozen=True)
class Invocation:
    """One /iris command or one click as Slack sent it, reduced to what handlers use."""

    user_id: str
    team_id: str | None
    channel_id: str | None
    response_url: str
    trigger_id: str | None
    subcommand: str
    rest: str
    message_ts: str | None = None  # for a click: the message its button was on
    request_key: str | None = None  # the Slack request's replay key (bot.slack.request), over HTTP

    @classmethod
    def from_command(cls, command: Mapping[str, Any]) -> Invocation:
        # No database stores NUL or a lone surrogate: what a person typed is cleaned once, here.
        subcommand, rest = split_subcommand(clean(str(command.get("text") or "")))
        return cls(
            user_id=str(command.get("user_id") or ""),
            team_id=optional_text(command.get("team_id")),
            channel_id=optional_text(command.get("channel_id")),
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
            team_id=optional_text((body.get("team") or {}).get("id") or user.get("team_id")),
            channel_id=optional_text((body.get("channel") or {}).get("id")),
            response_url=str(body.get("response_url") or ""),
            trigger_id=body.get("trigger_id"),
            subcommand="",
            rest="",
            message_ts=_clicked_message_ts(body),
        )

    @property
    def ids_fit(self) -> bool:
        """Whether the user, team and channel ids look like Slack's own: short, plain text."""
        ids = (self.user_id, self.team_id, self.channel_id)
        return all(i is None or (len(i) <= MAX_SLACK_ID and clean(i) == i and i.isprintable()) for i in ids)

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, team_id=self.team_id, channel_id=self.channel_id)

    def audit(self, action: str, **detail: Any) -> Audit:
        """The audit record of a change this person asks for; the service writes it with the change."""
        return Audit(self.actor, action, detail)


@dataclass(frozen=True)
class ParseContext:
    """What parsing may know besides the text: the language, the team's time zone and the time now."""

    t: Translator
    zone: str
    now: datetime


@dataclass(frozen=True)
class Action(Generic[A]):
    """One thing a subcommand does, chosen by the word after it; its usage line comes from here too.

    `word` is "" for the subcommand alone and None for "anything no other action takes", in which
    case the whole text, perhaps empty, is the argument. `parse` is pure (it runs before the ack);
    `run` does the work
    on the job runner and returns the answer for the person, or None when the change speaks for itself.
    """

    word: str | None
    args: str  # the synopsis after the words, e.g. "<scenario> [runs=N] [dry-run]"
    summary: str  # an English message id, translated where it is shown
    parse: Callable[[ParseContext, str], A]
    run: Callable[[Deps, Invocation, A], NewMessage | None]


@dataclass(frozen=True)
class Command:
    """A subcommand, `/iris <word>`, and its actions in the order its usage lists them."""

    word: str
    actions: tuple[Action[Any], ...]
    available: bool = True

    def synopses(self) -> list[tuple[str, str]]:
        """(`word action args`, summary) per action: help, usage and the README table all read this."""
        return [(_synopsis(self.word, action), action.summary) for action in self.actions]


def _synopsis(word: str, action: Action[Any]) -> str:
    return " ".join(part for part in (word, action.word or "", action.args) if part)


def usage_sentence(t: Translator, command: Command) -> str:
    shown = ", ".join(f"`{COMMAND} {synopsis}`" for synopsis, _ in command.synopses())
    return t("Usage: {commands}.", commands=shown)


class UsageError(Exception):
    """Raised by a parse when the words do not fit its synopsis: the answer is the command's usage."""


def no_arguments(context: ParseContext, rest: str) -> None:
    """The parse of an action that takes nothing after its words (read() names the command if it got some)."""
    if rest.strip():
        raise UserError(context.t("This takes no arguments."))


def read(command: Command, context: ParseContext, rest: str) -> tuple[Action[Any], Any]:
    """Pick the action by the first word, parse the rest with it; UserError with the usage otherwise."""
    try:
        return _read(command, context, rest)
    except UsageError:
        raise UserError(usage_sentence(context.t, command)) from None


def _read(command: Command, context: ParseContext, rest: str) -> tuple[Action[Any], Any]:
    first, tail = split_subcommand(rest)
    for action in command.actions:
        if action.word is not None and action.word == first:
            if action.parse is no_arguments and tail:
                raise _takes_no_arguments(context, command, action)
            return action, action.parse(context, tail)
    for action in command.actions:
        if action.word is None:
            return action, action.parse(context, rest)
    if [action.word for action in command.actions] == [""]:  # the subcommand alone is all there is
        raise _takes_no_arguments(context, command, command.actions[0])
    raise UsageError()


def _takes_no_arguments(context: ParseContext, command: Command, action: Action[Any]) -> UserError:
    words = f"{COMMAND} {_synopsis(command.word, action)}"
    return UserError(context.t("`{command}` takes no arguments.", command=words))


def register_command(app: AsyncApp, deps: Deps, subcommand: Command) -> None:
    """The Bolt listener of `/iris <word>`: parse (pure), ack at once, then the work on the job runner.

    A parse error is the ack itself, ephemerally; nothing touches the database or the network
    before the ack.
    """
    zone = deps.config.settings.iris_timezone

    # Bolt passes listener arguments by name: the slash command's payload arrives as `command`.
    @app.command(COMMAND, matchers=[subcommand_is(subcommand.word)])
    async def handle(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        invocation = replace(Invocation.from_command(command), request_key=context.get("iris_request_key"))
        try:
            action, args = read(subcommand, ParseContext(deps.t, zone, deps.clock()), invocation.rest)
        except UserError as exc:
            await ack(response_type="ephemeral", text=exc.sentence)
            return
        except Exception:  # a parsing bug still gets an answer, within Slack's 3 s
            reference = log_crash(log, f"reading /iris {subcommand.word}")
            await ack(response_type="ephemeral", text=crash_sentence(deps.t, reference))
            return
        await ack()
        observe_ack(deps, context, invocation.subcommand)
        work = partial(action.run, deps, invocation, args)
        deps.jobs.submit(invocation.subcommand, run_for_user, deps, invocation, work)


def run_for_user(
    deps: Deps, invocation: Invocation, work: Callable[[], NewMessage | None], answer: Answer | None = None
) -> None:
    """Run the work on the job runner and always answer: the result, a sentence, or a crash reference."""
    if not invocation.ids_fit:
        refuse_foreign_ids(deps, invocation)
        return
    tell = answer or partial(answer_by_response_url, invocation)
    if not not_replayed(deps, invocation):
        return
    try:
        message = work()
    except UserError as exc:
        message = tell(exc.sentence)
    except Refused as exc:
        message = tell(deps.t(exc.message, **exc.values))
    except Exception:
        message = tell(crash_sentence(deps.t, log_crash(log, f"/iris {invocation.subcommand or 'button'}")))
    if message is not None:
        deps.outbox.send(message)


def refuse_foreign_ids(deps: Deps, invocation: Invocation) -> None:
    """Ids no Slack sends: audited and answered through the response_url, never stored anywhere else."""
    log.warning("refused a request whose Slack ids do not fit (/iris %s)", invocation.subcommand or "button")
    try:
        record_refusal(deps.engine, invocation.audit("slack.request"), invocation.subcommand, why="slack ids")
        if invocation.response_url:
            sentence = deps.t(
                "IRIS cannot act on this request: a user, team or channel id in it is not one Slack sends "
                "(at most {limit} plain characters).",
                limit=MAX_SLACK_ID,
            )
            deps.outbox.send(answer_by_response_url(invocation, sentence))
    except Exception:
        log_crash(log, "refusing a request with foreign Slack ids")


def optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def not_replayed(deps: Deps, invocation: Invocation) -> bool:
    """False when another replica already acted on this very Slack request (a replay sent to it; the
    process that received it answers a replay to itself at once). The database decides, so exactly
    one replica acts. With the database down the work runs and meets that failure itself."""
    if invocation.request_key is None:
        return True
    try:
        with session_scope(deps.engine) as session:
            if replays.first_sighting(session, invocation.request_key, utcnow()):
                return True
    except SQLAlchemyError as exc:
        log.warning("could not check a Slack request for a replay: %s", str(exc).splitlines()[0])
        return True
    log.warning(
        "did not act on a replayed Slack request from %s: another replica handled it", invocation.user_id
    )
    return False


def crash_sentence(t: Translator, reference: str) -> str:
    """What a person reads when IRIS itself failed: never the exception, always the reference."""
    return t(
        "Something went wrong inside IRIS and it could not finish this. The operators can find the "
        "details under reference {reference}.",
        reference=reference,
    )


@dataclass(frozen=True)
class Home:
    """Where the object a button acts on lives: its channel, and the outbox message that shows it."""

    target: str  # the object, as the audit trail names it
    channel_id: str | None
    message_id: int | None = None


# The object a click's action is about, read from storage; None when there is none (the work says so).
Locate = Callable[[Session, Mapping[str, Any]], Home | None]


def on_click(
    app: AsyncApp,
    deps: Deps,
    action_id: str | re.Pattern[str],
    work: Callable[[Deps, Invocation, Mapping[str, Any]], NewMessage | None],
    name: str,
    *,
    home: Locate | None,
) -> None:
    """A button: ack at once, then `work(deps, invocation, action)` on the job runner, answered privately.

    `home` finds the object the button acts on, so a click is only acted on from the object's own
    channel and message; None is for buttons that act on nothing stored (they say why in a comment).
    """

    @app.action(action_id)
    async def handle_click(
        ack: AsyncAck, body: Mapping[str, Any], action: Mapping[str, Any], context: Mapping[str, Any]
    ) -> None:
        await ack()
        invocation = replace(Invocation.from_action(body), request_key=context.get("iris_request_key"))
        acted = partial(work, deps, invocation, action)
        if home is not None:
            acted = partial(from_home, deps, invocation, action, home, name, acted)
        deps.jobs.submit(name, run_for_user, deps, invocation, acted)


def from_home(
    deps: Deps,
    invocation: Invocation,
    action: Mapping[str, Any],
    locate: Locate,
    name: str,
    work: Callable[[], NewMessage | None],
) -> NewMessage | None:
    """`work()`, once the click is known to come from its object's own channel and message."""
    refuse_unless_home(deps, invocation, action, locate, name)
    return work()


def refuse_unless_home(
    deps: Deps, invocation: Invocation, action: Mapping[str, Any], locate: Locate, name: str
) -> None:
    """A UserError (the refusal audited) for a click that did not come from the channel and message
    of the object it names; nothing for an unknown object, which the work itself answers."""
    with read_scope(deps.engine) as session:
        found = locate(session, action)
        fine = found is None or _clicked_on(session, found, invocation)
    if fine:
        return
    assert found is not None
    with session_scope(deps.engine) as session:
        invocation.audit(name).refused(session, found.target, why="not clicked on its own message")
    log.warning("refused a click on %s from channel %s", found.target, invocation.channel_id)
    raise UserError(
        deps.t(
            "This button is not on the message IRIS keeps for it, so nothing was changed; "
            "use the buttons on that message."
        )
    )


def _clicked_on(session: Session, home: Home, invocation: Invocation) -> bool:
    """The click came from the object's message: where it was posted (a briefing moved by `edit`
    keeps its posted messages where they are), or, before it is posted or once pruned, its channel."""
    posted = outbox_repo.get(session, home.message_id) if home.message_id is not None else None
    if posted is None or posted.slack_ts is None:
        return home.channel_id == invocation.channel_id
    return (posted.slack_channel, posted.slack_ts) == (invocation.channel_id, invocation.message_ts)


def _clicked_message_ts(body: Mapping[str, Any]) -> str | None:
    container = body.get("container")
    if isinstance(container, dict) and isinstance(container.get("message_ts"), str):
        return str(container["message_ts"])
    message = body.get("message")
    return str(message["ts"]) if isinstance(message, dict) and isinstance(message.get("ts"), str) else None


def answer_by_response_url(invocation: Invocation, sentence: str) -> NewMessage:
    return reply(invocation, sentence, source="error")


def reply(invocation: Invocation, text: str, blocks: Blocks | None = None, source: str = "") -> NewMessage:
    """An ephemeral answer to the person who typed the command or clicked, through its response_url."""
    return respond(invocation.response_url, text, blocks, source=source)


def require_role(deps: Deps, invocation: Invocation, role: str, action: str, target: str = "") -> None:
    """A UserError naming the role when the person lacks it; the refusal is audited first."""
    _require_role(deps.engine, deps.roles, deps.t, invocation.actor, role, action, target)


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


def observe_ack(deps: Deps, context: Mapping[str, Any], subcommand: str) -> None:
    received = context.get("iris_received")
    if received is not None:
        deps.metrics.command_latency.labels(subcommand or "help").observe(time.perf_counter() - received)


def escape_mrkdwn(text: str) -> str:
    """Escape what Slack's mrkdwn gives meaning to, so no mention or link can be forged."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis saying something was left out; cut before escaping."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote_user_text(text: str, limit: int = MAX_ECHO) -> str:
    """A user's own words quoted back inside backticks: escaped, short, unable to close the quote."""
    return escape_mrkdwn(shorten(text, limit)).replace("`", "'")


def slack_date(moment: datetime, zone: str | None = None) -> str:
    """Shown by Slack in each reader's own time zone; the fallback names the team's zone, or UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = team_time(aware, zone) if zone else aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def team_time(moment: datetime, zone: str) -> str:
    """`2024-12-12 (Thu) 16:00 KST, Asia/Seoul UTC+09:00`: no reader can misread it."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d (%a) %H:%M} {local.tzname()}, {zone} UTC{offset[:3]}:{offset[3:]}"
