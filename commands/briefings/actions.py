"""The work behind `/iris brief …` and the Attending / Can't attend buttons, run after the ack."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session

from bot.briefings.service import AlreadyDone, BriefingService, Draft, NotFound, NothingLeft, NotStarted
from bot.deps import Deps
from bot.errors import UserError
from bot.permissions import record_refusal
from commands.briefings.parse import DoneArgs, EditArgs
from commands.briefings.publisher import SOURCE
from commands.briefings.views import ABSENT_ACTION, render_confirmation, render_list
from commands.kit import COMMAND, Home, Invocation, escape_mrkdwn, reply
from storage import briefings as repo
from storage.briefings import Briefing
from storage.outbox import NewMessage

DEFAULT_LEADS = (15 * 60,)


# Who may schedule what (README, "Security"): anyone may schedule a briefing in the channel they type in
# (or the briefings channel of iris.yml) for up to OPEN_ATTENDEES people; another channel, or more
# people to mention and DM, needs REACH_ROLE (admins hold every role).
REACH_ROLE = "release_managers"
OPEN_ATTENDEES = 15


def _require_reach(
    deps: Deps, invocation: Invocation, changes: dict[str, Any], action: str, target: str
) -> None:
    if deps.roles.holds(invocation.user_id, REACH_ROLE):
        return
    channel = changes.get("channel_id")
    if channel is not None and channel not in (invocation.channel_id, deps.config.iris.channels.briefings):
        record_refusal(deps.engine, invocation.audit(action), target, channel=channel, needed_role=REACH_ROLE)
        raise UserError(
            deps.t(
                "Only members of the {role} role can schedule a briefing into another channel; type the "
                "command in <#{channel}> itself, or leave out `channel=`.",
                role=REACH_ROLE,
                channel=channel,
            )
        )
    attendees = changes.get("attendees", ())
    if len(attendees) > OPEN_ATTENDEES:
        record_refusal(
            deps.engine, invocation.audit(action), target, attendees=len(attendees), needed_role=REACH_ROLE
        )
        raise UserError(
            deps.t(
                "Only members of the {role} role can list more than {limit} attendees; list fewer, or "
                "ask one of them to schedule it.",
                role=REACH_ROLE,
                limit=OPEN_ATTENDEES,
            )
        )


def add(deps: Deps, invocation: Invocation, changes: dict[str, Any]) -> NewMessage:
    _require_reach(deps, invocation, changes, "briefing.add", str(changes.get("title", ""))[:100])
    changes = dict(changes)
    changes.setdefault("leads", DEFAULT_LEADS)
    channel = changes.pop("channel_id", None) or deps.config.iris.channels.briefings or invocation.channel_id
    if not channel:
        raise UserError(deps.t("Say where to post it with `channel=#ops`."))
    draft = Draft(channel_id=channel, created_by=invocation.user_id, **changes)
    try:
        briefing = _service(deps).add(draft, invocation.audit("briefing.add", title=changes["title"]))
    except NothingLeft:
        raise UserError(
            deps.t(
                "That time passed before the briefing could be saved, so nothing was "
                "scheduled; give a time further in the future."
            )
        ) from None
    return reply(invocation, render_confirmation(deps.t, briefing, deps.clock()), source=SOURCE)


def list_upcoming(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    briefings, total = _service(deps).upcoming()
    return reply(invocation, render_list(deps.t, briefings, deps.clock(), total=total), source=SOURCE)


def cancel(deps: Deps, invocation: Invocation, briefing_id: int) -> NewMessage:
    _require_owner(deps, invocation, briefing_id, "briefing.cancel")
    with _known(deps, briefing_id):
        briefing = _service(deps).cancel(briefing_id, invocation.audit("briefing.cancel"))
    answer = deps.t(
        "Cancelled `{id}` *{title}*; nothing more will be posted for it.",
        id=briefing.id,
        title=escape_mrkdwn(briefing.title),
    )
    return reply(invocation, answer, source=SOURCE)


def edit(deps: Deps, invocation: Invocation, args: EditArgs) -> NewMessage:
    _require_owner(deps, invocation, args.briefing_id, "briefing.edit")
    _require_reach(deps, invocation, args.changes, "briefing.edit", str(args.briefing_id))
    audit = invocation.audit("briefing.edit", changed=sorted(args.changes))
    try:
        with _known(deps, args.briefing_id):
            briefing = _service(deps).edit(args.briefing_id, args.changes, audit)
    except NothingLeft:
        raise UserError(
            deps.t(
                "After that change `{id}` would have nothing left to post; give a time in the future.",
                id=args.briefing_id,
            )
        ) from None
    return reply(invocation, render_confirmation(deps.t, briefing, deps.clock()), source=SOURCE)


def done(deps: Deps, invocation: Invocation, args: DoneArgs) -> NewMessage:
    """Post the recording and notes in the briefing's thread and DM them to exactly the absentees."""
    _require_owner(deps, invocation, args.briefing_id, "briefing.done")
    try:
        with _known(deps, args.briefing_id):
            occurrence = _service(deps).finish(
                args.briefing_id, args.wrap_up, invocation.audit("briefing.done")
            )
    except NotStarted:
        raise UserError(
            deps.t("`{id}` has not started yet; `done` is for after it.", id=args.briefing_id)
        ) from None
    except AlreadyDone as exc:
        raise UserError(
            deps.t("`{id}` was already marked done by <@{user}>.", id=args.briefing_id, user=exc.by)
        ) from None
    people = ", ".join(f"<@{u}>" for u in occurrence.absentees) or deps.t("nobody")
    answer = deps.t(
        "Posted in the briefing's thread and sent to those who were absent: {people}.", people=people
    )
    return reply(invocation, answer, source=SOURCE)


def firing_home(session: Session, action: Mapping[str, Any]) -> Home | None:
    """The briefing message (reminder or start) an Attending or Can't attend button is on."""
    value = str(action.get("value", ""))
    firing = (
        repo.get_firing(session, int(value))
        if value.isascii() and value.isdigit() and len(value) <= 12
        else None
    )
    briefing = repo.get(session, firing.briefing_id) if firing is not None else None
    if firing is None or briefing is None:
        return None
    return Home(f"briefing {briefing.id}", briefing.channel_id, firing.message_id)


def answered(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    """Attending or Can't attend on a reminder or start message; the value is the firing's id."""
    value = str(action.get("value", ""))
    answer = repo.ABSENT if action.get("action_id") == ABSENT_ACTION else repo.ATTENDING
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise UserError(deps.t("That button does not belong to a briefing IRIS knows."))
    try:
        occurrence = _service(deps).answer(int(value), answer, invocation.audit("briefing.answer"))
    except NotFound:
        raise UserError(
            deps.t("This briefing was cancelled or is unknown; your answer was not recorded.")
        ) from None
    title = escape_mrkdwn(occurrence.briefing.title)
    if answer == repo.ATTENDING:
        return reply(invocation, deps.t("Noted: you are attending *{title}*.", title=title), source=SOURCE)
    sentence = deps.t(
        "Noted: you cannot attend *{title}*; you will get the recording and notes.", title=title
    )
    return reply(invocation, sentence, source=SOURCE)


def _service(deps: Deps) -> BriefingService:
    return deps.service(BriefingService)


@contextmanager
def _known(deps: Deps, briefing_id: int) -> Iterator[None]:
    """A briefing that is cancelled or unknown is named, with where the ids are."""
    try:
        yield
    except NotFound:
        raise UserError(
            deps.t(
                "There is no scheduled briefing `{id}`; `{command} brief list` shows the ids.",
                id=briefing_id,
                command=COMMAND,
            )
        ) from None


def _require_owner(deps: Deps, invocation: Invocation, briefing_id: int, action: str) -> Briefing:
    with _known(deps, briefing_id):
        briefing = _service(deps).get(briefing_id)
    if invocation.user_id == briefing.created_by or deps.roles.holds(invocation.user_id, "admins"):
        return briefing
    record_refusal(deps.engine, invocation.audit(action), str(briefing.id), needed="creator or admins")
    raise UserError(
        deps.t(
            "Only <@{user}>, who scheduled `{id}`, or an IRIS admin can do that.",
            user=briefing.created_by,
            id=briefing.id,
        )
    )
