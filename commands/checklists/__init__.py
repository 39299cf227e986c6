"""Release checklists: `/iris checklist` walks a team through a Markdown checklist with named sign-offs."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.checklists import cli
from bot.checklists.rules import MAX_NOTE, MAX_REASON, Act
from bot.checklists.service import ChecklistService
from bot.checklists.state import ItemState
from bot.deps import Deps
from bot.errors import Refused, UserError, log_crash
from bot.i18n import N_
from commands.checklists.actions import (
    answer_in_channel,
    checklist_home,
    clicked,
    diff,
    export,
    list_open,
    list_templates,
    not_ours,
    page_turned,
    show,
    start,
    submitted,
)
from commands.checklists.modals import NA_VIEW, NOTE_VIEW, TEXT_BLOCK, submitted_text, text_modal
from commands.checklists.parse import (
    form_origin,
    parse_button_value,
    parse_checklist_id,
    parse_diff,
    parse_form_metadata,
    parse_start,
)
from commands.checklists.publisher import SOURCE, SlackPublisher
from commands.checklists.views import APPROVE, NA, NOTE, PAGE, SIGN, UNDO
from commands.feature import Feature
from commands.kit import (
    Action,
    Command,
    Invocation,
    crash_sentence,
    from_home,
    no_arguments,
    not_replayed,
    on_click,
    optional_text,
    refuse_unless_home,
    reply,
    run_for_user,
)
from storage.checklists import Checklist, ChecklistEvent, ChecklistItem, ChecklistSignoff, ChecklistTemplate
from storage.fit import clean

log = logging.getLogger(__name__)
PRECHECK_SECONDS = 1.5  # a trigger_id lives 3 s: past this the form opens and the rules decide on submit
FORMS = {NA: (NA_VIEW, "na"), NOTE: (NOTE_VIEW, "note")}
VIEWS = {NA_VIEW: ("na", MAX_REASON), NOTE_VIEW: ("note", MAX_NOTE)}

CHECKLIST = Command(
    "checklist",
    (
        Action("", "", N_("The open checklists of this channel."), no_arguments, list_open),
        Action(
            "templates", "", N_("The checklist templates and their versions."), no_arguments, list_templates
        ),
        Action(
            "start",
            "<template>[@version] [release]",
            N_("Post a new checklist here (role release_managers)."),
            parse_start,
            start,
        ),
        Action("show", "<id>", N_("A checklist as it stands, privately."), parse_checklist_id, show),
        Action(
            "diff",
            "<template> [from] [to]",
            N_("What changed between two template versions."),
            parse_diff,
            diff,
        ),
        Action(
            "export",
            "<id>",
            N_("The checklist's record and trail as a Markdown file."),
            parse_checklist_id,
            export,
        ),
    ),
)


def register(app: AsyncApp, deps: Deps) -> None:
    clicks = re.compile(f"^({SIGN}|{UNDO}|{APPROVE})$")
    on_click(app, deps, clicks, clicked, "checklist-click", home=checklist_home)
    on_click(app, deps, re.compile(f"^{PAGE}_\\d+$"), page_turned, "checklist-page", home=checklist_home)

    @app.action(re.compile(f"^({NA}|{NOTE})$"))
    async def handle_form_button(
        ack: AsyncAck,
        body: Mapping[str, Any],
        action: Mapping[str, Any],
        client: AsyncWebClient,
        context: Mapping[str, Any],
    ) -> None:
        await ack()
        invocation = replace(Invocation.from_action(body), request_key=context.get("iris_request_key"))
        try:
            await _open_form(deps, client, invocation, str(body.get("trigger_id") or ""), action)
        except SlackApiError as exc:  # the trigger_id lives 3 s: a slow open (or a replay) misses it
            log.warning("could not open a checklist form: %s", exc.response.get("error"))
            sentence = deps.t("The form could not be opened in time; click the button again.")
            await asyncio.to_thread(deps.outbox.send, reply(invocation, sentence, source=SOURCE))
        except Exception:  # nothing may escape a listener after its ack
            sentence = crash_sentence(deps.t, log_crash(log, "opening a checklist form"))
            await asyncio.to_thread(
                deps.outbox.send, reply(Invocation.from_action(body), sentence, source=SOURCE)
            )

    @app.view(re.compile(f"^({NA_VIEW}|{NOTE_VIEW})$"))
    async def handle_form(
        ack: AsyncAck, body: Mapping[str, Any], view: Mapping[str, Any], context: Mapping[str, Any]
    ) -> None:
        kind, limit = VIEWS[str(view.get("callback_id"))]
        form = parse_form_metadata(view.get("private_metadata"))
        target = form[0] if form is not None else None
        text = clean(submitted_text(dict(view))).strip()  # no database stores NUL or a lone surrogate
        problem = _form_problem(deps, target, text, limit)
        if problem:
            await ack(response_action="errors", errors={TEXT_BLOCK: problem})
            return
        await ack()
        assert form is not None and target is not None
        user = body.get("user") or {}
        invocation = Invocation(
            str(user.get("id") or ""),
            optional_text(user.get("team_id")),
            form[1],
            "",
            None,
            "",
            "",
            message_ts=form[2],
            request_key=context.get("iris_request_key"),
        )
        act = Act(target[0], target[1], kind, invocation.user_id, text)
        work = partial(
            from_home,
            deps,
            invocation,
            {"value": f"{target[0]}:{target[1]}"},
            checklist_home,
            f"checklist-{kind}",
            partial(submitted, deps, act, invocation.audit(f"checklist.{kind}")),
        )
        answer = partial(answer_in_channel, deps, act.checklist_id, act.user_id)
        deps.jobs.submit(f"checklist-{kind}", run_for_user, deps, invocation, work, answer)


def _form_problem(deps: Deps, target: tuple[int, int] | None, text: str, limit: int) -> str | None:
    if target is None:
        return not_ours(deps).sentence
    if not text:
        return deps.t("Write a few words.")
    if len(text) > limit:
        return deps.t("At most {limit} characters.", limit=limit)
    return None


async def _open_form(
    deps: Deps, client: AsyncWebClient, invocation: Invocation, trigger_id: str, action: Mapping[str, Any]
) -> None:
    """Check the rules first (briefly: the trigger_id expires), then open the form with the trigger_id.

    A replay of the click (another replica acted on it already) opens nothing and writes nothing.
    """
    if not await asyncio.to_thread(not_replayed, deps, invocation):
        return
    view_kind, kind = FORMS[str(action.get("action_id"))]
    target = parse_button_value(action.get("value"))
    if target is None:
        await asyncio.to_thread(deps.outbox.send, reply(invocation, not_ours(deps).sentence, source=SOURCE))
        return
    act = Act(target[0], target[1], kind, invocation.user_id, text="-")
    try:
        item = await asyncio.wait_for(
            asyncio.to_thread(_precheck, deps, invocation, action, act), PRECHECK_SECONDS
        )
    except (Refused, UserError) as exc:
        sentence = exc.sentence if isinstance(exc, UserError) else deps.t(exc.message, **exc.values)
        await asyncio.to_thread(deps.outbox.send, reply(invocation, sentence, source=SOURCE))
        return
    except TimeoutError:
        item = None  # the rules run again when the form is submitted
    origin = form_origin(invocation.channel_id, invocation.message_ts)
    view = text_modal(deps.t, view_kind, target[0], item, target[1], origin)
    await client.views_open(trigger_id=trigger_id, view=view)


def _precheck(deps: Deps, invocation: Invocation, action: Mapping[str, Any], act: Act) -> ItemState | None:
    refuse_unless_home(deps, invocation, action, checklist_home, f"checklist-{act.action}")
    service = deps.service(ChecklistService)
    service.precheck(act)
    return service.state(act.checklist_id).item(act.position)


def build(deps: Deps) -> list[object]:
    folder = deps.config.iris.folders.checklists
    return [
        ChecklistService(
            deps.engine, folder, deps.roles.holds, deps.clock, SlackPublisher(deps.t, deps.outbox)
        )
    ]


FEATURE = Feature(
    name="checklists",
    commands=(CHECKLIST,),
    register=register,
    services=build,
    cli=cli.add_commands,
    tables=(ChecklistEvent, ChecklistSignoff, ChecklistItem, Checklist, ChecklistTemplate),
    counted=((N_("Checklists"), Checklist),),
)
