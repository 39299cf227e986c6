"""The work behind every checklist command, click and form, run on the job runner after the ack."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.checklists.export import export_markdown
from bot.checklists.rules import Act, Refused, Stale
from bot.checklists.service import Record
from bot.deps import Deps
from bot.errors import UserError, log_crash
from bot.outbox import ephemeral, upload_file
from bot.permissions import require_role
from commands.checklists.parse import ChecklistArgs
from commands.checklists.publisher import SOURCE, SlackPublisher
from commands.checklists.texts import render_diff, render_open, render_templates
from commands.checklists.views import render_readonly
from commands.kit import COMMAND, Invocation, reply
from storage import audit
from storage.audit import Action, Actor
from storage.db import session_scope
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
START_ROLE = "release_managers"


@contextmanager
def refusals_as_user_errors(deps: Deps) -> Iterator[None]:
    try:
        yield
    except Refused as exc:
        raise UserError(deps.t(exc.message, **exc.values)) from None


def checklist_work(deps: Deps, invocation: Invocation, args: ChecklistArgs) -> NewMessage:
    with refusals_as_user_errors(deps):
        return COMMANDS[args.action](deps, invocation, args)


def list_open(deps: Deps, invocation: Invocation, _: ChecklistArgs) -> NewMessage:
    states = deps.checklists.open_in(invocation.channel_id or "")
    return reply(invocation, render_open(deps.t, states), source=SOURCE)


def list_templates(deps: Deps, invocation: Invocation, _: ChecklistArgs) -> NewMessage:
    return reply(invocation, render_templates(deps.t, deps.checklists.library.scan()), source=SOURCE)


def start(deps: Deps, invocation: Invocation, args: ChecklistArgs) -> NewMessage:
    assert args.template is not None
    require_role(
        deps.engine, deps.roles, deps.t, invocation.actor, START_ROLE, "checklist.start", args.template
    )
    if not invocation.channel_id:
        raise UserError(deps.t("Start a checklist from the channel it belongs to."))
    state = deps.checklists.start(
        args.template, args.release, invocation.user_id, invocation.channel_id, SlackPublisher(deps)
    )
    deps.outbox.wake()
    with session_scope(deps.engine) as session:
        audit.record(
            session,
            invocation.actor,
            Action(
                name="checklist.start",
                target=str(state.id),
                detail={"template": state.label, "release": args.release},
            ),
        )
    return reply(
        invocation,
        deps.t(
            "Started checklist {id}: `{label}` with {count} items; it is posted in this channel.",
            id=state.id,
            label=state.label,
            count=state.total,
        ),
        source=SOURCE,
    )


def show(deps: Deps, invocation: Invocation, args: ChecklistArgs) -> NewMessage:
    assert args.checklist_id is not None
    state = deps.checklists.state(args.checklist_id)
    _in_its_channel(deps, invocation, state.id, state.checklist.channel_id)
    text, blocks = render_readonly(deps.t, state)
    return reply(invocation, text, blocks, source=SOURCE)


def _in_its_channel(deps: Deps, invocation: Invocation, checklist_id: int, channel_id: str) -> None:
    """A checklist of a private channel is not shown, or uploaded, anywhere else by guessing its id."""
    if invocation.channel_id != channel_id:
        raise UserError(
            deps.t("Checklist {id} belongs to another channel; use this command there.", id=checklist_id)
        )


def diff(deps: Deps, invocation: Invocation, args: ChecklistArgs) -> NewMessage:
    assert args.template is not None
    versions = [*args.versions, None, None]
    found = deps.checklists.library.diff(args.template.partition("@")[0], versions[0], versions[1])
    return reply(invocation, render_diff(deps.t, found), source=SOURCE)


def export(deps: Deps, invocation: Invocation, args: ChecklistArgs) -> NewMessage:
    assert args.checklist_id is not None
    record = deps.checklists.record(args.checklist_id)
    checklist = record.state.checklist
    _in_its_channel(deps, invocation, record.state.id, checklist.channel_id)
    channel, thread = checklist.channel_id, checklist.message_id
    name = f"checklist-{record.state.id}-{checklist.name}-v{checklist.version}.md"
    content = export_markdown(record, deps.config.settings.iris_timezone)
    deps.outbox.send(
        upload_file(
            channel,
            name,
            content,
            title=deps.t("Checklist {id} record", id=record.state.id),
            thread_of=thread,
            source=SOURCE,
        )
    )
    return reply(
        invocation,
        deps.t(
            "Exported checklist {id} as `{file}`; its trail is {result}.",
            id=record.state.id,
            file=name,
            result=_trail_word(deps, record),
        ),
        source=SOURCE,
    )


def _trail_word(deps: Deps, record: Record) -> str:
    return deps.t("intact") if record.verification.intact else deps.t("TAMPERED — see the file")


COMMANDS: dict[str, Callable[[Deps, Invocation, ChecklistArgs], NewMessage]] = {
    "open": list_open,
    "templates": list_templates,
    "start": start,
    "show": show,
    "diff": diff,
    "export": export,
}


def perform(deps: Deps, act: Act, actor: Actor) -> None:
    """Apply a click or a form; a refusal is audited, and a stale click shows the message afresh."""
    try:
        deps.checklists.act(act, SlackPublisher(deps))
    except Refused as exc:
        with session_scope(deps.engine) as session:
            audit.record(
                session,
                actor,
                Action(
                    name=f"checklist.{act.action}",
                    target=f"{act.checklist_id}:{act.position}",
                    outcome="refused",
                    detail={"why": str(exc)},
                ),
            )
        if isinstance(exc, Stale):
            deps.checklists.show_again(act.checklist_id, SlackPublisher(deps))
        raise
    finally:
        deps.outbox.wake()


def turn_page(deps: Deps, checklist_id: int, page: int) -> None:
    deps.checklists.show_again(checklist_id, SlackPublisher(deps), page=page)
    deps.outbox.wake()


def run_checklist_job(
    deps: Deps, what: str, work: Callable[[], None], answer: Callable[[str], NewMessage | None]
) -> None:
    """Run a click's or form's work; whatever happens, the person hears about a failure privately."""
    try:
        work()
        return
    except Refused as exc:
        sentence = deps.t(exc.message, **exc.values)
    except UserError as exc:
        sentence = exc.sentence
    except Exception:
        reference = log_crash(log, what)
        sentence = deps.t(
            "Something went wrong inside IRIS and it could not finish this. The operators can "
            "find the details under reference {reference}.",
            reference=reference,
        )
    message = answer(sentence)
    if message is not None:
        deps.outbox.send(message)


def answer_in_channel(deps: Deps, checklist_id: int, user_id: str, sentence: str) -> NewMessage | None:
    """A form has no response_url: the answer is an ephemeral in the checklist's own channel."""
    try:
        channel = deps.checklists.state(checklist_id).checklist.channel_id
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
