"""`/iris brief`: schedule briefings and milestones, answer Attending / Can't attend, and wrap them up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlmodel import Session

from bot.briefings.service import AlreadyDone, Draft, NotFound, NothingLeft, NotStarted, Occurrence
from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import Translator
from bot.outbox import post_message, update_message
from commands.briefings.parse import BriefArgs, parse_brief_args
from commands.briefings.views import (
    ABSENT_ACTION,
    ATTEND_ACTION,
    render_absentee_dm,
    render_confirmation,
    render_done,
    render_firing,
    render_list,
)
from commands.kit import (
    COMMAND,
    Invocation,
    ack_then_submit,
    escape_mrkdwn,
    reply,
    run_for_user,
    subcommand_is,
)
from storage import audit
from storage import briefings as repo
from storage.audit import Action
from storage.briefings import Briefing, BriefingFiring
from storage.db import session_scope
from storage.outbox import NewMessage

DEFAULT_LEADS = (15 * 60,)
SOURCE = "brief"


def register(app: AsyncApp, deps: Deps) -> None:
    def parse(t: Translator, rest: str) -> BriefArgs:
        return parse_brief_args(t, rest, deps.config.settings.iris_timezone, deps.clock())

    @app.command(COMMAND, matchers=[subcommand_is("brief")])
    async def handle_brief(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        await ack_then_submit(ack, deps, command, context, parse, brief_work)

    for action_id, answer in ((ATTEND_ACTION, repo.ATTENDING), (ABSENT_ACTION, repo.ABSENT)):
        app.action(action_id)(_answer_listener(deps, answer))


def _answer_listener(deps: Deps, answer: str) -> Callable[..., Any]:
    async def handle_answer(ack: AsyncAck, body: Mapping[str, Any]) -> None:
        await ack()
        invocation = Invocation.from_action(body)
        value = str(((body.get("actions") or [{}])[0]).get("value", ""))
        work = partial(record_answer, deps, invocation, value, answer)
        deps.jobs.submit("brief-answer", run_for_user, deps, invocation, work)

    return handle_answer


def brief_work(deps: Deps, invocation: Invocation, args: BriefArgs) -> NewMessage:
    try:
        return ACTIONS[args.action](deps, invocation, args)
    except NotFound:
        raise UserError(
            deps.t(
                "There is no scheduled briefing `{id}`; `{command} brief list` shows the ids.",
                id=args.briefing_id,
                command=COMMAND,
            )
        ) from None


def add(deps: Deps, invocation: Invocation, args: BriefArgs) -> NewMessage:
    changes = dict(args.changes)
    changes.setdefault("leads", DEFAULT_LEADS)
    channel = changes.pop("channel_id", None) or deps.config.iris.channels.briefings or invocation.channel_id
    if not channel:
        raise UserError(deps.t("Say where to post it with `channel=#ops`."))
    try:
        briefing = deps.briefings.add(
            Draft(channel_id=channel, created_by=invocation.user_id, **changes),
            then=_audit(invocation, "briefing.add", title=changes["title"]),
        )
    except NothingLeft:
        raise UserError(
            deps.t(
                "That time passed before the briefing could be saved, so nothing was "
                "scheduled; give a time further in the future."
            )
        ) from None
    return reply(invocation, render_confirmation(deps.t, briefing, deps.clock()), source=SOURCE)


def list_upcoming(deps: Deps, invocation: Invocation, _: BriefArgs) -> NewMessage:
    briefings, total = deps.briefings.upcoming()
    return reply(invocation, render_list(deps.t, briefings, deps.clock(), total=total), source=SOURCE)


def cancel(deps: Deps, invocation: Invocation, args: BriefArgs) -> NewMessage:
    assert args.briefing_id is not None
    _require_owner(deps, invocation, deps.briefings.get(args.briefing_id), "briefing.cancel")
    briefing = deps.briefings.cancel(args.briefing_id, then=_audit(invocation, "briefing.cancel"))
    return reply(
        invocation,
        deps.t(
            "Cancelled `{id}` *{title}*; nothing more will be posted for it.",
            id=briefing.id,
            title=escape_mrkdwn(briefing.title),
        ),
        source=SOURCE,
    )


def edit(deps: Deps, invocation: Invocation, args: BriefArgs) -> NewMessage:
    assert args.briefing_id is not None
    _require_owner(deps, invocation, deps.briefings.get(args.briefing_id), "briefing.edit")
    try:
        briefing = deps.briefings.edit(
            args.briefing_id,
            args.changes,
            then=_audit(invocation, "briefing.edit", changed=sorted(args.changes)),
        )
    except NothingLeft:
        raise UserError(
            deps.t(
                "After that change `{id}` would have nothing left to post; give a time in the future.",
                id=args.briefing_id,
            )
        ) from None
    return reply(invocation, render_confirmation(deps.t, briefing, deps.clock()), source=SOURCE)


def done(deps: Deps, invocation: Invocation, args: BriefArgs) -> NewMessage:
    """Post the recording and notes in the briefing's thread and DM them to exactly the absentees."""
    assert args.briefing_id is not None
    _require_owner(deps, invocation, deps.briefings.get(args.briefing_id), "briefing.done")
    try:
        occurrence = deps.briefings.finish(
            args.briefing_id, invocation.user_id, then=partial(_send_done, deps, invocation, args)
        )
    except NotStarted:
        raise UserError(
            deps.t("`{id}` has not started yet; `done` is for after it.", id=args.briefing_id)
        ) from None
    except AlreadyDone as exc:
        raise UserError(
            deps.t("`{id}` was already marked done by <@{user}>.", id=args.briefing_id, user=exc.by)
        ) from None
    deps.outbox.wake()
    people = ", ".join(f"<@{u}>" for u in occurrence.absentees) or deps.t("nobody")
    return reply(
        invocation,
        deps.t("Posted in the briefing's thread and sent to those who were absent: {people}.", people=people),
        source=SOURCE,
    )


def _send_done(
    deps: Deps, invocation: Invocation, args: BriefArgs, session: Session, occurrence: Occurrence
) -> None:
    """The thread reply, one DM per absentee and the audit record, in the transaction marking it done."""
    briefing, start = occurrence.briefing, occurrence.firing
    text = render_done(deps.t, occurrence, args.recording, args.notes)
    dm = render_absentee_dm(deps.t, occurrence, args.recording, args.notes)
    deps.outbox.send_in(
        session, post_message(briefing.channel_id, text, thread_of=start.message_id, source=SOURCE)
    )
    for user in occurrence.absentees:
        deps.outbox.send_in(
            session, post_message(user, dm, dedupe_key=f"brief-done:{start.id}:{user}", source=SOURCE)
        )
    audit.record(
        session,
        invocation.actor,
        Action(name="briefing.done", target=str(briefing.id), detail={"absentees": occurrence.absentees}),
    )


def record_answer(deps: Deps, invocation: Invocation, value: str, answer: str) -> NewMessage:
    if not value.isdigit():
        raise UserError(deps.t("That button does not belong to a briefing IRIS knows."))
    try:
        occurrence = deps.briefings.answer(
            int(value), invocation.user_id, answer, then=partial(_show_answers, deps)
        )
    except NotFound:
        raise UserError(
            deps.t("This briefing was cancelled or is unknown; your answer was not recorded.")
        ) from None
    deps.outbox.wake()
    title = escape_mrkdwn(occurrence.briefing.title)
    if answer == repo.ATTENDING:
        return reply(invocation, deps.t("Noted: you are attending *{title}*.", title=title), source=SOURCE)
    return reply(
        invocation,
        deps.t("Noted: you cannot attend *{title}*; you will get the recording and notes.", title=title),
        source=SOURCE,
    )


def _show_answers(
    deps: Deps, session: Session, occurrence: Occurrence, messages: list[BriefingFiring]
) -> None:
    """Every reminder and the start message of the occurrence show the answers, queued with the click."""
    for firing in messages:
        assert firing.message_id is not None
        text, blocks = render_firing(deps.t, occurrence.briefing, firing, occurrence.answers)
        deps.outbox.send_in(
            session,
            update_message(occurrence.briefing.channel_id, firing.message_id, text, blocks, source=SOURCE),
        )


def _require_owner(deps: Deps, invocation: Invocation, briefing: Briefing, action: str) -> None:
    if invocation.user_id == briefing.created_by or deps.roles.holds(invocation.user_id, "admins"):
        return
    with session_scope(deps.engine) as session:
        refusal = Action(
            name=action, target=str(briefing.id), outcome="refused", detail={"needed": "creator or admins"}
        )
        audit.record(session, invocation.actor, refusal)
    raise UserError(
        deps.t(
            "Only <@{user}>, who scheduled `{id}`, or an IRIS admin can do that.",
            user=briefing.created_by,
            id=briefing.id,
        )
    )


def _audit(invocation: Invocation, action: str, **detail: Any) -> Callable[[Session, Briefing], None]:
    """The audit record, written in the transaction of the change it describes."""

    def record(session: Session, briefing: Briefing) -> None:
        audit.record(session, invocation.actor, Action(name=action, target=str(briefing.id), detail=detail))

    return record


def firing_message(deps: Deps) -> Callable[[Briefing, BriefingFiring, dict[str, str]], NewMessage]:
    """What the scheduler posts for a claimed firing, in the briefing's channel."""

    def render(briefing: Briefing, firing: BriefingFiring, answers: dict[str, str]) -> NewMessage:
        text, blocks = render_firing(deps.t, briefing, firing, answers)
        return post_message(briefing.channel_id, text, blocks, source=SOURCE)

    return render


ACTIONS: dict[str, Callable[[Deps, Invocation, BriefArgs], NewMessage]] = {
    "add": add,
    "list": list_upcoming,
    "cancel": cancel,
    "edit": edit,
    "done": done,
}
