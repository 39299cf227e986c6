"""The command kit: dispatch from an action table, usage from the same table, and one answer per outcome."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.errors import Refused, UserError
from bot.i18n import N_, Translator
from commands.kit import (
    Action,
    Command,
    Invocation,
    ParseContext,
    UsageError,
    crash_sentence,
    no_arguments,
    read,
    run_for_user,
    slack_date,
    usage_sentence,
)
from storage.outbox import NewMessage

T = Translator("en")
CONTEXT = ParseContext(T, "Asia/Seoul", datetime(2024, 12, 12, tzinfo=UTC))


def _needs_a_name(_: ParseContext, rest: str) -> str:
    if not rest.strip():
        raise UsageError()
    return rest.strip()


def _nothing(*_: Any) -> None:
    return None


DEMO = Command(
    "demo",
    (
        Action("", "", N_("The list."), no_arguments, _nothing),
        Action("show", "<name>", N_("One of them."), _needs_a_name, _nothing),
        Action(None, "<anything>", N_("Anything else."), lambda _c, rest: rest, _nothing),
    ),
)
ALONE = Command("alone", (Action("", "", N_("Only this."), no_arguments, _nothing),))


@pytest.mark.parametrize(
    ("rest", "word", "args"),
    [
        ("", "", None),
        ("SHOW web", "show", "web"),
        ("show  two words", "show", "two words"),
        ("x y", None, "x y"),
    ],
)
def test_the_first_word_picks_the_action_and_the_rest_is_its_argument(
    rest: str, word: str | None, args: Any
) -> None:
    action, parsed = read(DEMO, CONTEXT, rest)
    assert (action.word, parsed) == (word, args)


def test_words_that_do_not_fit_the_synopsis_get_the_usage_from_the_table() -> None:
    with pytest.raises(UserError) as caught:
        read(DEMO, CONTEXT, "show")
    assert caught.value.sentence == "Usage: `/iris demo`, `/iris demo show <name>`, `/iris demo <anything>`."
    assert caught.value.sentence == usage_sentence(T, DEMO)


def test_an_action_that_takes_nothing_names_itself_when_it_gets_something() -> None:
    with pytest.raises(UserError, match=r"^`/iris alone` takes no arguments\.$"):
        read(ALONE, CONTEXT, "please")


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[NewMessage] = []

    def send(self, message: NewMessage) -> int:
        self.sent.append(message)
        return len(self.sent)


def _answered(work: Any) -> list[str]:
    outbox = _Outbox()
    deps: Any = SimpleNamespace(t=T, outbox=outbox)
    invocation = Invocation("U1", "T1", "C1", "https://hooks.example/1", None, "demo", "")
    run_for_user(deps, invocation, work)
    return [message.payload["body"]["text"] for message in outbox.sent]


def test_every_outcome_of_the_work_is_answered_privately(caplog: pytest.LogCaptureFixture) -> None:
    def refused() -> None:
        raise Refused(N_("There is no checklist {id}."), id=7)

    def user_error() -> None:
        raise UserError("Say which one.")

    def crash() -> None:
        raise RuntimeError("database exploded: password=hunter2")

    assert _answered(lambda: None) == []
    assert _answered(refused) == ["There is no checklist 7."]
    assert _answered(user_error) == ["Say which one."]
    with caplog.at_level(logging.ERROR):
        [sentence] = _answered(crash)
    reference = sentence.rsplit(" ", 1)[-1].rstrip(".")
    assert sentence == crash_sentence(T, reference) and "hunter2" not in sentence
    assert reference in caplog.text and "database exploded" in caplog.text


def test_slack_dates_fall_back_to_the_teams_zone_or_utc() -> None:
    moment = datetime(2024, 12, 12, 7, 0, tzinfo=UTC)
    assert slack_date(moment) == "<!date^1733986800^{date_short_pretty} {time}|2024-12-12 07:00 UTC>"
    assert slack_date(moment, "Asia/Seoul").endswith("|2024-12-12 (Thu) 16:00 KST, Asia/Seoul UTC+09:00>")
    assert slack_date(moment.replace(tzinfo=None)) == slack_date(moment)  # SQLite hands back naive UTC
