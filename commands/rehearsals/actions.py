"""The work behind `/iris rehearse …` and the Abort button, run on the job runner after the ack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from bot.deps import Deps
from bot.errors import UserError
from bot.rehearsals.scenario import Scenario, ScenarioError, is_scenario_name
from bot.rehearsals.service import NoSuchRehearsal, RehearsalService, ShuttingDown, StartRequest
from commands.kit import COMMAND, Home, Invocation, escape_mrkdwn, quote_user_text, reply, require_role
from commands.rehearsals.parse import REHEARSAL_ID, StartArgs
from commands.rehearsals.views import render_list, render_plan, render_records
from storage import rehearsals as repo
from storage.outbox import NewMessage

ROLE = "release_managers"
MAX_ERRORS_SHOWN = 5
SOURCE = "rehearse"


def list_scenarios(deps: Deps, invocation: Invocation, _: None) -> NewMessage:
    return reply(invocation, render_list(deps.t, deps.service(RehearsalService).scenarios()), source=SOURCE)


def show_status(deps: Deps, invocation: Invocation, rehearsal_id: str | None) -> NewMessage:
    try:
        records = deps.service(RehearsalService).shown(rehearsal_id)
    except NoSuchRehearsal:
        raise UserError(deps.t("There is no rehearsal `{id}`.", id=rehearsal_id)) from None
    return reply(invocation, render_records(deps.t, records), source=SOURCE)


def start(deps: Deps, invocation: Invocation, args: StartArgs) -> NewMessage:
    if not args.dry_run:  # the refusal comes before anything about the scenario is shown
        require_role(deps, invocation, ROLE, "rehearsal.start", args.name)
    service = deps.service(RehearsalService)
    scenario = _scenario(deps, service, args.name)
    if args.dry_run:
        runs = min(args.runs or scenario.runs, scenario.runs)
        return reply(invocation, render_plan(deps.t, scenario, runs), source=SOURCE)
    request = StartRequest(scenario.name, args.runs, invocation.user_id, invocation.channel_id)
    try:
        record = service.start(request, invocation.audit("rehearsal.start"))
    except repo.AlreadyRunning as exc:
        raise UserError(
            deps.t(
                "*{name}* is already being rehearsed, id `{id}`; wait for it or abort it.",
                name=scenario.name,
                id=exc.rehearsal_id,
            )
        ) from None
    except ShuttingDown:
        raise UserError(deps.t("IRIS is restarting; start the rehearsal again in a minute.")) from None
    answer = deps.t(
        "Started rehearsal `{id}` of *{name}* ({runs} runs); it reports in this channel.",
        id=record.id,
        name=scenario.name,
        runs=record.runs_planned,
    )
    return reply(invocation, answer, source=SOURCE)


def _scenario(deps: Deps, service: RehearsalService, name: str) -> Scenario:
    if not is_scenario_name(name):
        raise UserError(
            deps.t(
                "`{name}` is not a scenario name: names have 1 to 64 lower-case letters, digits, "
                "'.', '_' or '-'; `{command} rehearse list` shows them.",
                name=quote_user_text(name),
                command=COMMAND,
            )
        )
    try:
        return service.scenario(name)
    except ScenarioError as exc:
        shown = "\n".join(f"• {escape_mrkdwn(error)}" for error in exc.errors[:MAX_ERRORS_SHOWN])
        raise UserError(
            deps.t("Scenario *{name}* cannot run:\n{errors}", name=quote_user_text(name), errors=shown)
        ) from None


def abort(deps: Deps, invocation: Invocation, rehearsal_id: str) -> NewMessage:
    require_role(deps, invocation, ROLE, "rehearsal.abort", rehearsal_id)
    if not deps.service(RehearsalService).abort(rehearsal_id, invocation.audit("rehearsal.abort")):
        raise UserError(
            deps.t(
                "Rehearsal `{id}` is not running in this IRIS process; "
                "`{command} rehearse status {id}` shows where it stands.",
                id=rehearsal_id,
                command=COMMAND,
            )
        )
    answer = deps.t("Aborting rehearsal `{id}`: its target is being stopped.", id=rehearsal_id)
    return reply(invocation, answer, source=SOURCE)


def rehearsal_home(session: Session, action: Mapping[str, Any]) -> Home | None:
    """The rehearsal whose message the Abort button is on."""
    value = str(action.get("value", ""))
    rehearsal = repo.get(session, value) if REHEARSAL_ID.match(value) else None
    if rehearsal is None:
        return None
    return Home(f"rehearsal {rehearsal.id}", rehearsal.channel_id, rehearsal.message_id)


def abort_clicked(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    """The Abort button on a rehearsal's message: its value is the rehearsal id."""
    return abort(deps, invocation, str(action.get("value", "")))
