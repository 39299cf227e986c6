"""Alert group buttons: Acknowledge for anyone, Silence 1h/4h/24h and Unsilence for the oncall role."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.alerts.alertmanager import AlertmanagerUnavailable
from bot.alerts.service import NoSuchGroup, NothingToSilenceBy, NotSilenced
from bot.deps import Deps
from bot.errors import UserError
from bot.permissions import require_role
from commands.alerts.views import ACK_ACTION, SILENCE_PATTERN, UNSILENCE_ACTION, clock_time
from commands.kit import Invocation, reply, run_for_user
from storage import audit
from storage.audit import Action
from storage.db import session_scope
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
ROLE = "oncall"
Work = Callable[[Deps, Invocation, int, str], NewMessage]


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ACK_ACTION)
    async def handle_ack(ack: AsyncAck, body: Mapping[str, Any]) -> None:
        await ack()
        submit(deps, body, acknowledge)

    @app.action(SILENCE_PATTERN)
    async def handle_silence(ack: AsyncAck, body: Mapping[str, Any]) -> None:
        await ack()
        submit(deps, body, silence)

    @app.action(UNSILENCE_ACTION)
    async def handle_unsilence(ack: AsyncAck, body: Mapping[str, Any]) -> None:
        await ack()
        submit(deps, body, unsilence)


def submit(deps: Deps, body: Mapping[str, Any], work: Work) -> None:
    """Hand the click to the job runner: Alertmanager may be slow, and the ack is already sent."""
    invocation = Invocation.from_action(body)
    action = (body.get("actions") or [{}])[0]
    group_id = _group_id(action.get("value"))
    job = partial(work, deps, invocation, group_id, str(action.get("action_id", "")))
    deps.jobs.submit("alert-button", run_for_user, deps, invocation, job)


def _group_id(value: Any) -> int:
    """The button's value; anything but digits (a forged payload) names no group."""
    text = str(value or "")
    return int(text) if text.isdigit() else -1


def acknowledge(deps: Deps, invocation: Invocation, group_id: int, _: str) -> NewMessage:
    with _translated(deps):
        deps.alerts.acknowledge(group_id, invocation.user_id)
    _audit(deps, invocation, "alert.ack", group_id, {})
    return reply(invocation, deps.t("You acknowledged this alert group."), source="alerts")


def silence(deps: Deps, invocation: Invocation, group_id: int, action_id: str) -> NewMessage:
    require_role(deps.engine, deps.roles, deps.t, invocation.actor, ROLE, "alert.silence", str(group_id))
    match = SILENCE_PATTERN.match(action_id)
    hours = int(match.group(1)) if match else 1
    comment = f"Silenced from Slack through IRIS by {invocation.user_id}"
    with _translated(deps):
        group = deps.alerts.silence(group_id, invocation.user_id, hours, comment)
    _audit(deps, invocation, "alert.silence", group_id, {"hours": hours, "silence_id": group.silence_id})
    tz = ZoneInfo(deps.config.settings.iris_timezone)
    until = clock_time(group.silenced_until, tz, deps.clock())
    return reply(invocation, deps.t("Silenced in Alertmanager until {until}.", until=until), source="alerts")


def unsilence(deps: Deps, invocation: Invocation, group_id: int, _: str) -> NewMessage:
    require_role(deps.engine, deps.roles, deps.t, invocation.actor, ROLE, "alert.unsilence", str(group_id))
    try:
        with _translated(deps):
            deps.alerts.unsilence(group_id, invocation.user_id)
    except NotSilenced:
        raise UserError(deps.t("This alert group is not silenced by IRIS.")) from None
    _audit(deps, invocation, "alert.unsilence", group_id, {})
    return reply(invocation, deps.t("The silence is expired; notifications resume."), source="alerts")


@contextmanager
def _translated(deps: Deps) -> Iterator[None]:
    """The service's failures as sentences for the person who clicked; nothing was recorded."""
    try:
        yield
    except NoSuchGroup:
        raise UserError(deps.t("IRIS no longer knows this alert group.")) from None
    except NothingToSilenceBy:
        raise UserError(
            deps.t(
                "This alert group has no labels to build a silence from, so nothing "
                "changed; silence it in Alertmanager's own page."
            )
        ) from None
    except AlertmanagerUnavailable as exc:
        log.warning("alert button: Alertmanager unavailable: %s", exc)
        raise UserError(
            deps.t(
                "Alertmanager could not be reached (IRIS_ALERTMANAGER_URL), so nothing changed. Try "
                "again in a minute, or use Alertmanager's own page."
            )
        ) from None


def _audit(deps: Deps, invocation: Invocation, action: str, group_id: int, detail: dict[str, Any]) -> None:
    with session_scope(deps.engine) as session:
        audit.record(session, invocation.actor, Action(name=action, target=str(group_id), detail=detail))
