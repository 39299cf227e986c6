"""`/iris checklist`: templates, start, sign-offs with buttons and forms, diff, export."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.checklists.rules import MAX_NOTE, MAX_REASON, Act, Refused
from bot.checklists.state import ItemState
from bot.deps import Deps
from bot.errors import UserError, log_crash
from commands.checklists.actions import (
    answer_in_channel,
    checklist_work,
    not_ours,
    perform,
    run_checklist_job,
    turn_page,
)
from commands.checklists.modals import NA_VIEW, NOTE_VIEW, TEXT_BLOCK, submitted_text, text_modal
from commands.checklists.parse import parse_button_value, parse_checklist_args, parse_click_value
from commands.checklists.publisher import SOURCE
from commands.checklists.views import APPROVE, NA, NOTE, PAGE, SIGN, UNDO
from commands.kit import COMMAND, Invocation, ack_then_submit, reply, subcommand_is
from storage.audit import Actor

log = logging.getLogger(__name__)
PRECHECK_SECONDS = 1.5  # a trigger_id lives 3 s: past this the form opens and the rules decide on submit
CLICKS = {SIGN: "sign", UNDO: "undo", APPROVE: "approve"}
FORMS = {NA: (NA_VIEW, "na"), NOTE: (NOTE_VIEW, "note")}
VIEWS = {NA_VIEW: ("na", MAX_REASON), NOTE_VIEW: ("note", MAX_NOTE)}


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND, matchers=[subcommand_is("checklist")])
    async def handle_checklist(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        await ack_then_submit(ack, deps, command, context, parse_checklist_args, checklist_work)

    @app.action(re.compile(f"^({SIGN}|{UNDO}|{APPROVE})$"))
    async def handle_click(ack: AsyncAck, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        await ack()
        invocation = Invocation.from_action(body)
        target = parse_click_value(action.get("value"))
        work = partial(_click, deps, invocation, CLICKS[str(action.get("action_id"))], target)
        _submit(deps, "checklist-click", invocation, work)

    @app.action(re.compile(f"^{PAGE}_\\d+$"))
    async def handle_page(ack: AsyncAck, body: Mapping[str, Any], action: Mapping[str, Any]) -> None:
        await ack()
        invocation = Invocation.from_action(body)
        target = parse_button_value(action.get("value"))
        _submit(deps, "checklist-page", invocation, partial(_page, deps, target))

    @app.action(re.compile(f"^({NA}|{NOTE})$"))
    async def handle_form_button(
        ack: AsyncAck, body: Mapping[str, Any], action: Mapping[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            await _open_form(deps, client, body, action)
        except Exception:  # nothing may escape a listener after its ack
            reference = log_crash(log, "opening a checklist form")
            sentence = deps.t(
                "Something went wrong inside IRIS and it could not finish this. The operators "
                "can find the details under reference {reference}.",
                reference=reference,
            )
            await asyncio.to_thread(
                deps.outbox.send, reply(Invocation.from_action(body), sentence, source=SOURCE)
            )

    @app.view(re.compile(f"^({NA_VIEW}|{NOTE_VIEW})$"))
    async def handle_form(ack: AsyncAck, body: Mapping[str, Any], view: Mapping[str, Any]) -> None:
        kind, limit = VIEWS[str(view.get("callback_id"))]
        target = parse_button_value(view.get("private_metadata"))
        text = submitted_text(dict(view)).strip()
        problem = _form_problem(deps, target, text, limit)
        if problem:
            await ack(response_action="errors", errors={TEXT_BLOCK: problem})
            return
        await ack()
        assert target is not None
        user = body.get("user") or {}
        act = Act(target[0], target[1], kind, str(user.get("id") or ""), text)
        actor = Actor(user_id=act.user_id, team_id=user.get("team_id"))
        deps.jobs.submit(
            f"checklist-{kind}",
            run_checklist_job,
            deps,
            f"checklist {kind}",
            partial(perform, deps, act, actor),
            partial(answer_in_channel, deps, act.checklist_id, act.user_id),
        )


def _submit(deps: Deps, name: str, invocation: Invocation, work: Any) -> None:
    answer = partial(_answer, invocation)
    deps.jobs.submit(name, run_checklist_job, deps, name, work, answer)


def _answer(invocation: Invocation, sentence: str) -> Any:
    return reply(invocation, sentence, source=SOURCE)


def _click(deps: Deps, invocation: Invocation, kind: str, target: tuple[int, int, int | None] | None) -> None:
    if target is None:
        raise not_ours(deps)
    checklist_id, position, signoff_id = target
    act = Act(checklist_id, position, kind, invocation.user_id, signoff_id=signoff_id)
    perform(deps, act, invocation.actor)


def _page(deps: Deps, target: tuple[int, int] | None) -> None:
    if target is None:
        raise not_ours(deps)
    turn_page(deps, target[0], target[1])


def _form_problem(deps: Deps, target: tuple[int, int] | None, text: str, limit: int) -> str | None:
    if target is None:
        return not_ours(deps).sentence
    if not text:
        return deps.t("Write a few words.")
    if len(text) > limit:
        return deps.t("At most {limit} characters.", limit=limit)
    return None


async def _open_form(
    deps: Deps, client: AsyncWebClient, body: Mapping[str, Any], action: Mapping[str, Any]
) -> None:
    """Check the rules first (briefly: the trigger_id expires), then open the form with the trigger_id."""
    invocation = Invocation.from_action(body)
    view_kind, kind = FORMS[str(action.get("action_id"))]
    target = parse_button_value(action.get("value"))
    if target is None:
        await asyncio.to_thread(deps.outbox.send, reply(invocation, not_ours(deps).sentence, source=SOURCE))
        return
    act = Act(target[0], target[1], kind, invocation.user_id, text="-")
    try:
        item = await asyncio.wait_for(asyncio.to_thread(_precheck, deps, act), PRECHECK_SECONDS)
    except (Refused, UserError) as exc:
        sentence = exc.sentence if isinstance(exc, UserError) else deps.t(exc.message, **exc.values)
        await asyncio.to_thread(deps.outbox.send, reply(invocation, sentence, source=SOURCE))
        return
    except TimeoutError:
        item = None  # the rules run again when the form is submitted
    view = text_modal(deps.t, view_kind, target[0], item, target[1])
    await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)


def _precheck(deps: Deps, act: Act) -> ItemState | None:
    deps.checklists.precheck(act)
    return deps.checklists.state(act.checklist_id).item(act.position)
