"""Reading `/iris note …` and `/iris report …` as Slack sends them, and every bad input as one sentence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.errors import UserError
from bot.i18n import translator
from commands.kit import ParseContext, read
from commands.reports import NOTE, REPORT
from commands.reports.parse import NoteArgs, ReportArgs

NOW = datetime(2024, 12, 12, 9, 0, tzinfo=UTC)  # 18:00 in Seoul
CONTEXT = ParseContext(translator("en"), "Asia/Seoul", NOW)
TODAY = date(2024, 12, 12)


def _read(command: Any, text: str) -> tuple[str | None, Any]:
    action, args = read(command, CONTEXT, text)
    return action.word, args


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'problem "APM index saturated in QA" response="retention cut to 7 days"',
            NoteArgs("problem", "APM index saturated in QA", TODAY, "retention cut to 7 days"),
        ),
        ("work Rehearsed v1.2 five times in QA", NoteArgs("work", "Rehearsed v1.2 five times in QA", TODAY)),
        (
            "GOAL “Rehearse before production” date=2024-12-11",
            NoteArgs("goal", "Rehearse before production", date(2024, 12, 11)),
        ),
        ("ref https://grafana.example/d/x", NoteArgs("ref", "https://grafana.example/d/x", TODAY)),
    ],
)
def test_a_note_is_its_kind_its_text_and_its_options(text: str, expected: NoteArgs) -> None:
    assert _read(NOTE, text) == (None, expected)


def test_note_list_and_delete() -> None:
    assert _read(NOTE, "list") == ("list", TODAY)
    assert _read(NOTE, "list yesterday") == ("list", date(2024, 12, 11))
    assert _read(NOTE, "delete #12") == ("delete", 12)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("", "Usage: `/iris note list [date]`"),
        ("idea something", "`idea` is not a kind of note"),
        ("work", "Write the note after its kind"),
        ('work "x" response="y"', "`response=` goes with a `problem` note."),
        ("work x date=2024-13-01", "`2024-13-01` is not a day"),
        ("work x date=2025-06-01", "at most a month ahead"),
        ("work x colour=red", "`colour=` is not an option here"),
        ("work x date=2024-12-01 date=2024-12-02", "`date=` is given twice."),
        ("work " + "x" * 1001, "A note has at most 1000 characters."),
        ("delete twelve", "Say which note"),
    ],
)
def test_bad_notes_are_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(UserError) as caught:
        read(NOTE, CONTEXT, text)
    assert sentence in caught.value.sentence


def test_a_report_is_of_a_day_that_has_begun_in_a_language() -> None:
    assert _read(REPORT, "") == (None, ReportArgs(TODAY))
    assert _read(REPORT, "2024-12-11 lang=KO") == (None, ReportArgs(date(2024, 12, 11), "ko"))
    assert _read(REPORT, "post yesterday") == ("post", ReportArgs(date(2024, 12, 11)))
    given = _read(REPORT, 'post stage="4단계 —  운영 안정성" keywords="자동화 리허설, , 재시도 QA ,"')
    assert given == ("post", ReportArgs(TODAY, None, "4단계 — 운영 안정성", ("자동화 리허설", "재시도 QA")))
    for text, sentence in (
        (
            "2024-12-13",
            "A report is of a day that has begun; `2024-12-13` has not. Try `/iris report 2024-12-12`.",
        ),
        ("lang=fr", "`lang=` is `ko` or `en`."),
        ("12/12", "`12/12` is not a day; write it as `2024-12-12`"),
        ("1999-12-31", "IRIS has nothing recorded before the year 2000."),
        ("stage=" + "s" * 201, "`stage=` has at most 200 characters."),
        ('keywords="' + ",".join("k" * 11) + '"', "`keywords=` is at most 10 keywords of 60 characters"),
        ("keywords=" + "k" * 61, "`keywords=` is at most 10 keywords of 60 characters"),
    ):
        with pytest.raises(UserError) as caught:
            read(REPORT, CONTEXT, text)
        assert sentence in caught.value.sentence
