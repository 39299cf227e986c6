"""`/iris rehearse`: list, start (or dry-run), follow and abort rehearsals from Slack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.errors import UserError
from bot.permissions import require_role
from bot.rehearsals.scenario import ScenarioError
from bot.rehearsals.service import ShuttingDown, StartRequest
from commands.kit import (
    COMMAND,
    Invocation,
    ack_then_submit,
    escape_mrkdwn,
    quote_user_text,
    reply,
    run_for_user,
    subcommand_is,
)
from commands.rehearsals.parse import RehearseArgs, parse_rehearse_args
from commands.rehearsals.publisher import SlackWatcher
from commands.rehearsals.views import ABORT_ACTION, render_list, render_plan, render_records
from storage import audit
from storage import rehearsals as repo
from storage.audit import Action
from storage.db import read_scope, session_scope
from storage.outbox import NewMessage

ROLE = "release_managers"
MAX_ERRORS_SHOWN = 5


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND, matchers=[subcommand_is("rehearse")])
    async def handle_rehearse(ack: AsyncAck, command: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        await ack_then_submit(ack, deps, command, context, parse_rehearse_args, rehearse_work)

    @app.action(ABORT_ACTION)
    async def handle_abort_button(ack: AsyncAck, body: Mapping[str, Any]) -> None:
        await ack()
        invocation = Invocation.from_action(body)
        actions = body.get("actions") or [{}]
        rehearsal_id = str(actions[0].get("value", ""))
        args = RehearseArgs("abort", rehearsal_id=rehearsal_id)
        work = partial(abort, deps, invocation, args)
        deps.jobs.submit("rehearse-abort", run_for_user, deps, invocation, work)


def rehearse_work(deps: Deps, invocation: Invocation, args: RehearseArgs) -> NewMessage:
    return ACTIONS[args.action](deps, invocation, args)


def list_scenarios(deps: Deps, invocation: Invocation, _: RehearseArgs) -> NewMessage:
    return reply(invocation, render_list(deps.t, deps.rehearsals.scenarios()), source="rehearse")


def show_status(deps: Deps, invocation: Invocation, args: RehearseArgs) -> NewMessage:
    with read_scope(deps.engine) as session:
        if args.rehearsal_id is None:
            records = repo.running(session) + repo.recent(session)
        else:
            found = repo.get(session, args.rehearsal_id)
            if found is None:
                raise UserError(deps.t("There is no rehearsal `{id}`.", id=args.rehearsal_id))
            records = [found]
    unique = list({record.id: record for record in records}.values())[:10]
    return reply(invocation, render_records(deps.t, unique), source="rehearse")


def start(deps: Deps, invocation: Invocation, args: RehearseArgs) -> NewMessage:
    assert args.name is not None
    if not args.dry_run:  # the refusal comes before anything about the scenario is shown
        require_role(deps.engine, deps.roles, deps.t, invocation.actor, ROLE, "rehearsal.start", args.name)
    scenario = _scenario(deps, args.name)
    if args.dry_run:
        runs = min(args.runs or scenario.runs, scenario.runs)
        return reply(invocation, render_plan(deps.t, scenario, runs), source="rehearse")
    request = StartRequest(scenario.name, args.runs, invocation.user_id, invocation.channel_id)
    try:
        record = deps.rehearsals.start(request, SlackWatcher(deps, invocation.channel_id or ""))
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
    _audit(
        deps,
        invocation,
        "rehearsal.start",
        record.id,
        {"scenario": scenario.name, "runs": record.runs_planned},
    )
    return reply(
        invocation,
        deps.t(
            "Started rehearsal `{id}` of *{name}* ({runs} runs); it reports in this channel.",
            id=record.id,
            name=scenario.name,
            runs=record.runs_planned,
        ),
        source="rehearse",
    )


def _scenario(deps: Deps, name: str):  # type: ignore[no-untyped-def]
    try:
        return deps.rehearsals.scenario(name)
    except ScenarioError as exc:
        shown = "\n".join(f"• {escape_mrkdwn(error)}" for error in exc.errors[:MAX_ERRORS_SHOWN])
        raise UserError(
            deps.t("Scenario *{name}* cannot run:\n{errors}", name=quote_user_text(name), errors=shown)
        ) from None


def abort(deps: Deps, invocation: Invocation, args: RehearseArgs) -> NewMessage:
    rehearsal_id = args.rehearsal_id or ""
    require_role(deps.engine, deps.roles, deps.t, invocation.actor, ROLE, "rehearsal.abort", rehearsal_id)
    if not deps.rehearsals.abort(rehearsal_id):
        raise UserError(
            deps.t(
                "Rehearsal `{id}` is not running in this IRIS process; "
                "`{command} rehearse status {id}` shows where it stands.",
                id=rehearsal_id,
                command=COMMAND,
            )
        )
    _audit(deps, invocation, "rehearsal.abort", rehearsal_id, {})
    answer = deps.t("Aborting rehearsal `{id}`: its target is being stopped.", id=rehearsal_id)
    return reply(invocation, answer, source="rehearse")


def _audit(deps: Deps, invocation: Invocation, action: str, target: str, detail: dict[str, Any]) -> None:
    with session_scope(deps.engine) as session:
        audit.record(session, invocation.actor, Action(name=action, target=target, detail=detail))


ACTIONS: dict[str, Callable[[Deps, Invocation, RehearseArgs], NewMessage]] = {
    "list": list_scenarios,
    "status": show_status,
    "start": start,
    "abort": abort,
}
