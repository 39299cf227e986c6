"""Reading `/iris brief …` as Slack sends it (escaped mentions and channels, smart quotes), and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.briefings.service import WrapUp
from bot.briefings.when import Schedule
from bot.errors import UserError
from bot.i18n import Translator
from commands.briefings import BRIEF
from commands.briefings.parse import DoneArgs
from commands.kit import ParseContext, read

NOW = datetime(2024, 12, 12, 3, 0, tzinfo=UTC)  # 12:00 in Seoul


def _parse(t: Translator, text: str) -> Any:
    """What the chosen action of `/iris brief` gets: the Draft fields of add, EditArgs, an id …"""
    return read(BRIEF, ParseContext(t, "Asia/Seoul", NOW), text)[1]


def test_add_reads_the_title_when_and_every_option(t: Translator) -> None:
    args = _parse(
        t,
        'add "Cross-team briefing" today 16:00 remind=30m,5m channel=<#C0OPS|ops> '
        'agenda="Deploy schedule, rollback plan" attendees=<@U0KIM|kim>,<@U0LEE|lee> '
        "kind=briefing",
    )
    assert args == {
        "title": "Cross-team briefing",
        "schedule": Schedule(zone="Asia/Seoul", at=datetime(2024, 12, 12, 7, 0, tzinfo=UTC)),
        "leads": (1800, 300),
        "channel_id": "C0OPS",
        "agenda": "Deploy schedule, rollback plan",
        "attendees": ("U0KIM", "U0LEE"),
        "kind": "briefing",
    }


def test_smart_quotes_from_a_phone_keyboard_are_read_as_quotes(t: Translator) -> None:
    args = _parse(t, "add “Production deploy” 2024-12-17 10:00 kind=milestone agenda=“Go/no-go”")
    assert args["title"] == "Production deploy" and args["agenda"] == "Go/no-go"
    assert args["kind"] == "milestone"


def test_a_cron_rule_is_an_option_with_a_quoted_value(t: Translator) -> None:
    args = _parse(t, 'add "Stand-up" cron="0 16 * * 1-5"')
    assert args["schedule"] == Schedule(zone="Asia/Seoul", rule="0 16 * * 1-5")


def test_edit_takes_only_what_changes(t: Translator) -> None:
    assert _parse(t, "edit 12 tomorrow 09:30").changes == {
        "schedule": Schedule(zone="Asia/Seoul", at=datetime(2024, 12, 13, 0, 30, tzinfo=UTC))
    }
    assert _parse(t, 'edit #12 "New title" remind=none').changes == {"title": "New title", "leads": ()}


def test_done_reads_an_escaped_link_and_notes(t: Translator) -> None:
    args = _parse(t, 'done 7 recording=<https://zoom.example/rec/1|recording> notes="Next: 13 Dec training"')
    assert args == DoneArgs(7, WrapUp(recording="https://zoom.example/rec/1", notes="Next: 13 Dec training"))


def test_list_and_cancel(t: Translator) -> None:
    assert read(BRIEF, ParseContext(t, "Asia/Seoul", NOW), "list")[0].word == "list"
    assert _parse(t, "cancel 3") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Usage: `/iris brief add"),
        ("frobnicate", "Usage: `/iris brief add"),
        ("add tomorrow 10:00", "Start with the title in quotes"),
        ('add "" tomorrow 10:00', "Start with the title in quotes"),
        ('add "x" tomorrow 10:00 remind=5m remind=10m', "`remind=` is given twice"),
        ('add "x" tomorrow 10:00 colour=red', "`colour=` is not an option here"),
        ('add "x" tomorrow 10:00 attendees=@kim', "`@kim` is not one"),
        ('add "x" tomorrow 10:00 channel=#ops', "`#ops` is not one"),
        ('add "x" tomorrow 10:00 kind=party', "`kind=` is `briefing` or `milestone`"),
        ('add "x" tomorrow 10:00 "second quote"', "Only the title is quoted"),
        ('add "' + "t" * 201 + '" tomorrow 10:00', "1 to 200 characters"),
        ('add "x" tomorrow 10:00 agenda="' + "a" * 2001 + '"', "limited to 2000 characters"),
        ("cancel", "Say which briefing"),
        ("cancel twelve", "Say which briefing"),
        ("cancel 3 now", "takes only the id"),
        ("edit 3", "Say what to change"),
        ("done 3 recording=ftp://x", "must be an http(s) link"),
        ("done 3 recording=https://x.example/<!channel>", "must be an http(s) link"),
        ("done 3 recording=<https://x.example|<!here>>", "must be an http(s) link"),
        ("done 3 loudly", "takes `recording=<url>`"),
        ("done 3 agenda=x", "`agenda=` is not an option of `done`"),
        ('add "x" yesterday', "IRIS cannot read `yesterday`"),
        ('add "x" today 11:00', "is in the past"),
    ],
)
def test_bad_input_is_one_sentence(t: Translator, text: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        _parse(t, text)
    assert expected in caught.value.sentence


def test_more_than_fifty_attendees_are_refused(t: Translator) -> None:
    people = ",".join(f"<@U{n:04d}>" for n in range(51))
    with pytest.raises(UserError, match="At most 50 attendees"):
        _parse(t, f'add "x" tomorrow 10:00 attendees={people}')
