"""The work of the alert group buttons: Acknowledge for anyone, Silence 1h/4h/24h and Unsilence for oncall."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.alerts.alertmanager import AlertmanagerUnavailable, NoAlertmanager
from bot.alerts.service import AlertService, NoSuchGroup, NothingToSilenceBy, NotSilenced
from bot.deps import Deps
from bot.errors import UserError
from commands.alerts.views import SILENCE_PATTERN, clock_time
from commands.kit import Home, Invocation, reply, require_role
from storage.alerts import AlertGroup
from storage.outbox import NewMessage

log = logging.getLogger(__name__)
ROLE = "oncall"


def group_id_of(action: Mapping[str, Any]) -> int:
    """The button's value; anything but digits (a forged payload) names no group."""
    text = str(action.get("value") or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else -1


def group_home(session: Session, action: Mapping[str, Any]) -> Home | None:
    """The alert group whose message Acknowledge, Silence or Unsilence is on."""
    group = session.get(AlertGroup, group_id_of(action))
    return Home(f"alert group {group.id}", group.channel, group.message_id) if group is not None else None


def acknowledge(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    with _translated(deps):
        deps.service(AlertService).acknowledge(group_id_of(action), invocation.audit("alert.ack"))
    return reply(invocation, deps.t("You acknowledged this alert group."), source="alerts")


def silence(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    group_id = group_id_of(action)
    require_role(deps, invocation, ROLE, "alert.silence", str(group_id))
    match = SILENCE_PATTERN.match(str(action.get("action_id", "")))
    hours = int(match.group(1)) if match else 1
    comment = f"Silenced from Slack through IRIS by {invocation.user_id}"
    with _translated(deps):
        group = deps.service(AlertService).silence(
            group_id, hours, comment, invocation.audit("alert.silence")
        )
    tz = ZoneInfo(deps.config.settings.iris_timezone)
    until = clock_time(group.silenced_until, tz, deps.clock())
    return reply(invocation, deps.t("Silenced in Alertmanager until {until}.", until=until), source="alerts")


def unsilence(deps: Deps, invocation: Invocation, action: Mapping[str, Any]) -> NewMessage:
    group_id = group_id_of(action)
    require_role(deps, invocation, ROLE, "alert.unsilence", str(group_id))
    try:
        with _translated(deps):
            deps.service(AlertService).unsilence(group_id, invocation.audit("alert.unsilence"))
    except NotSilenced:
        raise UserError(deps.t("This alert group is not silenced by IRIS.")) from None
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
    except NoAlertmanager:
        raise UserError(
            deps.t(
                "Silencing needs an Alertmanager: set IRIS_ALERTMANAGER_URL to its address "
                "(e.g. http://alertmanager:9093) and restart IRIS. Nothing changed."
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
