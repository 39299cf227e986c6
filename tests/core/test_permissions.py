"""Roles: direct members, user-group members, admins holding every role, and audited refusals."""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.config import RolesConfig
from bot.errors import UserError
from bot.i18n import Translator
from bot.permissions import Roles, require_role
from storage import audit
from storage.audit import Actor
from storage.clock import utcnow
from storage.db import session_scope

CONFIG = RolesConfig(admins=["UADMIN"], oncall=["UONCALL", "S0ONCALL"])


class GroupDirectory:
    """Stands in for usergroups.users.list and counts how often it is asked."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups
        self.asked = 0

    def __call__(self, group_id: str) -> list[str]:
        self.asked += 1
        if group_id not in self.groups:
            raise OSError("Slack unreachable")
        return self.groups[group_id]


def test_direct_members_group_members_and_admins_hold_a_role() -> None:
    roles = Roles(CONFIG, GroupDirectory({"S0ONCALL": ["UPAGER"]}))
    assert roles.holds("UONCALL", "oncall") and roles.holds("UPAGER", "oncall")
    assert roles.holds("UADMIN", "oncall") and roles.holds("UADMIN", "approvers")
    assert not roles.holds("UOTHER", "oncall") and not roles.holds("UONCALL", "admins")


def test_group_membership_is_cached_for_five_minutes() -> None:
    directory = GroupDirectory({"S0ONCALL": ["UPAGER"]})
    roles = Roles(CONFIG, directory)
    with freeze_time("2024-12-12 07:00:00") as frozen:
        roles.holds("UPAGER", "oncall")
        roles.holds("UPAGER", "oncall")
        assert directory.asked == 1
        frozen.tick(301)
        roles.holds("UPAGER", "oncall")
        assert directory.asked == 2


def test_an_unreachable_directory_denies_rather_than_guesses() -> None:
    assert not Roles(CONFIG, GroupDirectory({})).holds("UPAGER", "oncall")


def test_an_unknown_role_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Roles(CONFIG, GroupDirectory({})).holds("UADMIN", "wizards")


def test_a_refusal_names_the_role_and_is_audited(engine: Engine) -> None:
    roles = Roles(CONFIG, GroupDirectory({}))
    actor = Actor(user_id="UOTHER", team_id="T1", channel_id="C1")
    with pytest.raises(UserError) as caught:
        require_role(engine, roles, Translator("en"), actor, "oncall", "alert.silence", "group-7")
    assert "oncall role" in caught.value.sentence
    with session_scope(engine) as session:
        [event] = audit.since(session, utcnow().replace(year=2000))
    assert (event.actor, event.action, event.target, event.outcome) == (
        "UOTHER",
        "alert.silence",
        "group-7",
        "refused",
    )
    require_role(engine, roles, Translator("en"), Actor(user_id="UONCALL"), "oncall", "alert.silence")
