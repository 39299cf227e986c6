"""Roles from iris.yml, checked in one place; every refusal is audited and named to the user."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from bot.config import ROLES, RolesConfig
from bot.errors import UserError
from bot.i18n import Translator
from storage.audit import Actor, Audit
from storage.db import session_scope

log = logging.getLogger(__name__)


class Roles:
    """Who holds which role: user IDs directly, or through a Slack user group (cached 5 minutes).

    Admins hold every role: the people who run IRIS must be able to unblock any step.
    """

    def __init__(
        self, config: RolesConfig, members_of: Callable[[str], list[str]], ttl_seconds: float = 300.0
    ) -> None:
        self._config = config
        self._members_of = members_of
        self._ttl = ttl_seconds
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def holds(self, user_id: str, role: str) -> bool:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        return self._in(user_id, getattr(self._config, role)) or self._in(user_id, self._config.admins)

    def _in(self, user_id: str, members: list[str]) -> bool:
        if user_id in members:
            return True
        return any(user_id in self._group(m) for m in members if m.startswith("S"))

    def _group(self, group_id: str) -> frozenset[str]:
        with self._lock:
            cached = self._groups.get(group_id)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            members = frozenset(self._members_of(group_id))
        except Exception as exc:  # Slack unreachable or the group unknown: the last answer, else deny
            log.warning("could not read members of user group %s: %r", group_id, exc)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._groups[group_id] = (time.monotonic(), members)
        return members


def require_role(
    engine: Engine, roles: Roles, t: Translator, actor: Actor, role: str, action: str, target: str = ""
) -> None:
    """Raise a UserError naming the role when the actor lacks it, after auditing the refusal."""
    if roles.holds(actor.user_id, role):
        return
    record_refusal(engine, Audit(actor, action), target, needed_role=role)
    raise UserError(
        t(
            "Only members of the {role} role can do that. Ask an IRIS admin to add you to "
            "the role in iris.yml.",
            role=role,
        )
    )


def record_refusal(engine: Engine, audit: Audit, target: str, **why: object) -> None:
    """A refused change is audited on its own: nothing else happened that it could commit with."""
    with session_scope(engine) as session:
        audit.refused(session, target, **why)
