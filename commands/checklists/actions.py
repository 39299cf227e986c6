"""The work behind every checklist command, click and form, run on the job runner after the ack."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from bot.checklists.export import export_markdown
from bot.checklists.rules import Act
from bot.checklists.service import ChecklistService, Record
from bot.deps import Deps
from bot.errors import Refused, UserError
from bot.outbox import ephemeral, upload_file
from commands.checklists.parse import DiffArgs, StartArgs, parse_button_value, parse_click_value
from commands.checklists.texts import render_diff, render_open, render_templates
from commands.checklists.views import APPROVE, SIGN, UNDO, render_readonly
from commands.kit import COMMAND, Home, Invocation, reply, require_role
from storage import checklists as repo
from storage.audit import Audit
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
START_ROLE = "release_managers"
SOURCE = "checklist"
CLICKS = {SIGN: "sign", UNDO: "undo", APPROVE: "approve"}


def list_open(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    states = deps.service(ChecklistService).open_in(invocation.channel_id or "")
    return reply(invocation, render_open(deps.t, states), source=SOURCE)


def list_templates(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    listing = deps.service(ChecklistService).library.scan()
    return reply(invocation, render_templates(deps.t, listing), source=SOURCE)


def start(deps: Deps, invocation: Invocation, args: StartArgs) -> NewMessage:
    require_role(deps, invocation, START_ROLE, "checklist.start", args.template)
    if not invocation.channel_id:
        raise UserError(deps.t("Start a checklist from the channel it belongs to."))
    audit = invocation.audit("checklist.start")
    state = deps.service(ChecklistService).start(args.template, args.release, invocation.channel_id, audit)
    answer = deps.t(
        "Started checklist {id}: `{label}` with {count} items; it is posted in this channel.",
        id=state.id,
        label=state.label,
        count=state.total,
    )
    return reply(invocation, answer, source=SOURCE)


def show(deps: Deps, invocation: Invocation, checklist_id: int) -> NewMessage:
    state = deps.service(ChecklistService).state(checklist_id)
    _in_its_channel(deps, invocation, state.id, state.checklist.channel_id)
    text, blocks = render_readonly(deps.t, state)
    return reply(invocation, text, blocks, source=SOURCE)


def _in_its_channel(deps: Deps, invocation: Invocation, checklist_id: int, channel_id: str) -> None:
    """A checklist of a private channel is not shown, or uploaded, anywhere else by guessing its id."""
    if invocation.channel_id != channel_id:
        raise UserError(
            deps.t("Checklist {id} belongs to another channel; use this command there.", id=checklist_id)
        )


def diff(deps: Deps, invocation: Invocation, args: DiffArgs) -> NewMessage:
    found = deps.service(ChecklistService).library.diff(args.template, *args.versions)
    return reply(invocation, render_diff(deps.t, found), source=SOURCE)


def export(deps: Deps, invocation: Invocation, checklist_id: int) -> NewMessage:
    record = deps.service(ChecklistService).record(checklist_id)
    checklist = record.state.checklist
    _in_its_channel(deps, invocation, record.state.id, checklist.channel_id)
    name = f"checklist-{record.state.id}-{checklist.name}-v{checklist.version}.md"
    content = export_markdown(record, deps.config.settings.iris_timezone)
    title = deps.t("Checklist {id} record", id=record.state.id)
    thread = checklist.message_id
    deps.outbox.send(
        upload_file(checklist.channel_id, name, content, title=title, thread_of=thread, source=SOURCE)
    )
    answer = deps.t(
        "Exported checklist {id} as `{file}`; its trail is {result}.",
        id=record.state.id,
        file=name,
        result=_trail_word(deps, record),
    )
    return reply(invocation, answer, source=SOURCE)


def _trail_word(deps: Deps, record: Record) -> str:
    return deps.t("intact") if record.verification.intact else deps.t("TAMPERED — see the file")


def checklist_home(session: Session, action: Mapping[str, Any]) -> Home | None:
    """The checklist a button names (Sign, Undo, Approve, N/A, Note, a page), where its message is."""
    target = parse_click_value(action.get("value"))
    checklist = repo.get(session, target[0]) if target is not None else None
    if checklist is None:
        return None
    return Home(f"checklist {checklist.id}", checklist.channel_id, checklist.message_id)


def clicked(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> None:
    """Sign, Undo or Approve on a checklist's message: the change shows on the message itself."""
    target = parse_click_value(action.get("value"))
    if target is None:
        raise not_ours(deps)
    checklist_id, position, signoff_id = target
    kind = CLICKS[str(action.get("action_id"))]
    act = Act(checklist_id, position, kind, invocation.user_id, signoff_id=signoff_id)
    deps.service(ChecklistService).act(act, invocation.audit(f"checklist.{kind}"))


def submitted(deps: Deps, act: Act, audit: Audit) -> None:
    """An N/A reason or a note from its form: the change shows on the checklist's message."""
    deps.service(ChecklistService).act(act, audit)


def page_turned(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> None:
    target = parse_button_value(action.get("value"))
    if target is None:
        raise not_ours(deps)
    deps.service(ChecklistService).show_again(target[0], page=target[1])


def answer_in_channel(deps: Deps, checklist_id: int, user_id: str, sentence: str) -> NewMessage | None:
    """A form has no response_url: the answer is an ephemeral in the checklist's own channel."""
    try:
        channel = deps.service(ChecklistService).state(checklist_id).checklist.channel_id
    except Refused:
        log.warning("no channel to tell %s: checklist %s does not exist", user_id, checklist_id)
        return None
    return ephemeral(channel, user_id, sentence, source=SOURCE)


def not_ours(deps: Deps) -> UserError:
    return UserError(
        deps.t(
            "That button or form was not made by this IRIS; `{command} checklist` lists the open checklists.",
            command=COMMAND,
        )
    )
