"""The reminder message stays a message Slack accepts, however many people answer it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.i18n import Translator
from bot.slack_standin.blockkit import MESSAGE_BLOCK_LIMIT, block_errors
from commands.briefings.views import MAX_PEOPLE_SHOWN, render_answers, render_firing
from storage import briefings as repo
from storage.briefings import Briefing, BriefingFiring

AT = datetime(2024, 12, 16, 7, 0, tzinfo=UTC)


def _briefing(attendees: list[str]) -> Briefing:
    return Briefing(
        id=3, title="Release briefing", channel_id="C0OPS", attendees=json.dumps(attendees), zone="Asia/Seoul"
    )


def _users(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:010d}" for n in range(count)]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_reminder_answered_by_a_whole_channel_is_still_accepted_by_slack(lang: str) -> None:
    t = Translator(lang)
    answers = {u: repo.ATTENDING for u in _users("UA", 400)} | {u: repo.ABSENT for u in _users("UB", 300)}
    firing = BriefingFiring(id=9, briefing_id=3, fire_at=AT, occurrence_at=AT, lead=0, status="posted")

    _, blocks = render_firing(t, _briefing(_users("UC", 50)), firing, answers)

    assert block_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    shown = blocks[-1]["elements"][0]["text"]
    assert t("and {n} more people", n=400 - MAX_PEOPLE_SHOWN) in shown
    assert t("and {n} more people", n=300 - MAX_PEOPLE_SHOWN) in shown


def test_answers_within_the_limit_name_everyone() -> None:
    t = Translator("en")
    answers = {u: repo.ATTENDING for u in _users("UA", MAX_PEOPLE_SHOWN)}

    shown = render_answers(t, _briefing([]), answers)

    assert shown.count("<@UA") == MAX_PEOPLE_SHOWN and "more people" not in shown
