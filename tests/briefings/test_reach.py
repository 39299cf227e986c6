"""Who may schedule what: a briefing goes into the channel it was typed in (or iris.yml's briefings
channel) for up to 15 attendees; another channel or more people needs release_managers. Refusals are
audited and schedule nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.deps import Deps
from bot.errors import UserError
from bot.i18n import Translator
from bot.runtime import build_deps
from commands.briefings.actions import add, edit
from commands.briefings.parse import EditArgs, parse_add, parse_edit
from commands.kit import Invocation, ParseContext
from commands.registry import load_config
from storage import audit
from storage.briefings import Briefing
from storage.db import read_scope

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
RM, ANYONE = "URELMGR1", "UANYONE1"
PEOPLE = ",".join(f"<@U{n:04d}>" for n in range(16))


@pytest.fixture
def deps(brief_engine: Engine, tmp_path: Path) -> Iterator[Deps]:
    (tmp_path / "iris.yml").write_text(
        f"channels:\n  default: C0OPS\n  briefings: C0BRIEF\nroles:\n  release_managers: [{RM}]\n"
    )
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "IRIS_CONFIG": str(tmp_path / "iris.yml"),
        }
    )
    built, poster = build_deps(config, brief_engine, clock=lambda: NOW)
    yield built
    poster.close()
    built.slack.close()


def _add(deps: Deps, user: str, text: str, channel: str = "C0TYPED") -> str:
    invocation = Invocation(user, "T0", channel, f"https://hooks.example/{user}", None, "brief", "")
    changes = parse_add(ParseContext(Translator("en"), "Asia/Seoul", NOW), text)
    try:
        add(deps, invocation, changes)
    except UserError as exc:
        return exc.sentence
    return "scheduled"


def _scheduled(engine: Engine) -> list[tuple[str, str]]:
    with read_scope(engine) as session:
        return [(b.title, b.channel_id) for b in session.exec(select(Briefing).order_by(Briefing.id)).all()]  # type: ignore[arg-type]


def _refusals(engine: Engine) -> list[tuple[str, str, str]]:
    with read_scope(engine) as session:
        events = audit.since(session, datetime(2000, 1, 1, tzinfo=UTC))
    return [(e.actor, e.action, e.detail) for e in events if e.outcome == "refused"]


def test_anyone_schedules_in_the_channel_they_type_in_or_the_briefings_channel(deps: Deps) -> None:
    assert _add(deps, ANYONE, '"Here" tomorrow 10:00') == "scheduled"
    assert _add(deps, ANYONE, '"Typed here" tomorrow 10:00 channel=<#C0TYPED|ops>') == "scheduled"
    assert _add(deps, ANYONE, '"Configured" tomorrow 10:00 channel=<#C0BRIEF>') == "scheduled"
    assert _add(deps, ANYONE, f'"Fifteen" tomorrow 10:00 attendees={PEOPLE.rsplit(",", 1)[0]}') == "scheduled"
    # With channels.briefings set, a briefing without channel= goes there.
    assert _scheduled(deps.engine) == [
        ("Here", "C0BRIEF"),
        ("Typed here", "C0TYPED"),
        ("Configured", "C0BRIEF"),
        ("Fifteen", "C0BRIEF"),
    ]
    assert _refusals(deps.engine) == []


def test_another_channel_or_more_attendees_needs_release_managers(deps: Deps) -> None:
    assert _add(deps, ANYONE, '"Elsewhere" tomorrow 10:00 channel=<#C0ELSE>') == (
        "Only members of the release_managers role can schedule a briefing into another channel; "
        "type the command in <#C0ELSE> itself, or leave out `channel=`."
    )
    assert _add(deps, ANYONE, f'"Everyone" tomorrow 10:00 attendees={PEOPLE}') == (
        "Only members of the release_managers role can list more than 15 attendees; list fewer, or "
        "ask one of them to schedule it."
    )
    assert _scheduled(deps.engine) == []
    assert [(actor, action) for actor, action, _ in _refusals(deps.engine)] == [
        (ANYONE, "briefing.add"),
        (ANYONE, "briefing.add"),
    ]
    assert _add(deps, RM, '"Elsewhere" tomorrow 10:00 channel=<#C0ELSE>') == "scheduled"
    assert _add(deps, RM, f'"Everyone" tomorrow 10:00 attendees={PEOPLE}') == "scheduled"
    assert [title for title, _ in _scheduled(deps.engine)] == ["Elsewhere", "Everyone"]


def test_an_edit_cannot_move_a_briefing_where_its_author_could_not_add_it(deps: Deps) -> None:
    assert _add(deps, ANYONE, '"Mine" tomorrow 10:00') == "scheduled"
    with read_scope(deps.engine) as session:
        (briefing_id,) = session.exec(select(Briefing.id)).all()
    context = ParseContext(Translator("en"), "Asia/Seoul", NOW)
    args: EditArgs = parse_edit(context, f"{briefing_id} channel=<#C0ELSE>")
    invocation = Invocation(ANYONE, "T0", "C0TYPED", "https://hooks.example/x", None, "brief", "")
    with pytest.raises(UserError, match="schedule a briefing into another channel"):
        edit(deps, invocation, args)
    assert _scheduled(deps.engine) == [("Mine", "C0BRIEF")]


@pytest.mark.parametrize(
    ("option", "sentence"),
    [
        ("channel=C" + "A" * 40, "`channel=` needs a channel picked from Slack's autocomplete"),
        ("attendees=U" + "A" * 40, "`attendees=` lists people picked from Slack's autocomplete"),
        ('cron="' + "0 16 * * " + ",".join(["1"] * 60) + '"', "`cron=` has at most 100 characters."),
    ],
)
def test_values_longer_than_what_is_stored_are_a_sentence(deps: Deps, option: str, sentence: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_add(ParseContext(Translator("en"), "Asia/Seoul", NOW), f'"Long" tomorrow 10:00 {option}')
    assert refused.value.sentence.startswith(sentence)
