"""Parsing `/iris checklist …` and rendering checklists within Slack's limits, with user text escaped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.checklists.state import ChecklistState, ItemState, Note, Standing
from bot.errors import UserError
from bot.i18n import Translator
from bot.slack_standin.blockkit import block_errors
from commands.checklists import CHECKLIST
from commands.checklists.parse import DiffArgs, StartArgs, parse_button_value, parse_click_value
from commands.checklists.views import (
    MESSAGE_BLOCKS,
    item_line,
    paginate,
    render_checklist,
    render_readonly,
    shown_page,
)
from commands.kit import ParseContext, read
from storage.checklists import Checklist

T = Translator("en")
AT = datetime(2024, 12, 16, 7, 0, tzinfo=UTC)
CONTEXT = ParseContext(T, "Asia/Seoul", AT)


def _state(
    count: int,
    *,
    done: set[int] | None = None,
    page: int = 0,
    status: str = "open",
    text: str = "Step {n}",
    notes: int = 0,
) -> ChecklistState:
    done = done or set()
    checklist = Checklist(
        id=7,
        template_id=1,
        name="big",
        version="1",
        title="Big <release>",
        release="r1",
        channel_id="C0OPS",
        started_by="URM",
        started_at=AT,
        status=status,
        page=page,
    )
    items = tuple(
        ItemState(
            position=n,
            section=f"Part {(n - 1) // 12 + 1}",
            text=text.format(n=n),
            owner=None,
            approval=False,
            standing=Standing("sign", "UDEV", AT, None) if n in done else None,
            notes=tuple(Note("UQA", AT, "x" * 900) for _ in range(notes)),
        )
        for n in range(1, count + 1)
    )
    return ChecklistState(checklist=checklist, items=items)


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("", ("", None)),
        ("templates", ("templates", None)),
        (
            "START automation-patch@1.1 2024-12-17 prod",
            ("start", StartArgs(template="automation-patch@1.1", release="2024-12-17 prod")),
        ),
        ("show #7", ("show", 7)),
        ("export 12", ("export", 12)),
        (
            "diff automation-patch v1.1 1.2",
            ("diff", DiffArgs(template="automation-patch", versions=("v1.1", "1.2"))),
        ),
    ],
)
def test_commands_parse(rest: str, expected: tuple[str, object]) -> None:
    action, args = read(CHECKLIST, CONTEXT, rest)
    assert (action.word, args) == expected


@pytest.mark.parametrize(
    ("rest", "start"),
    [
        ("start", "Usage: `/iris checklist`"),
        ("start Bad/Name", "`Bad/Name` is not a template name"),
        ("start ok " + "r" * 121, "A release name has at most 120 characters."),
        ("show seven", "`seven` is not a checklist id"),
        ("show 1 2", "Usage:"),
        ("diff t 1 2 3", "Usage:"),
        ("diff t <!here>", "`&lt;!here&gt;` is not a version"),
        ("delete 7", "Usage:"),
    ],
)
def test_bad_commands_are_one_sentence(rest: str, start: str) -> None:
    with pytest.raises(UserError) as caught:
        read(CHECKLIST, CONTEXT, rest)
    assert caught.value.sentence.startswith(start)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7:3", (7, 3)), ("7:x", None), ("", None), (None, None), ("1:2:3", None), ("9" * 10 + ":1", None)],
)
def test_button_values_are_only_what_iris_wrote(value: object, expected: tuple[int, int] | None) -> None:
    assert parse_button_value(value) == expected


@pytest.mark.parametrize("count", [1, 15, 23, 24, 60, 100])
def test_every_page_fits_in_one_message(count: int) -> None:
    state = _state(count)
    pages = paginate(state)
    assert [i.position for page in pages for i in page] == list(range(1, count + 1))
    for page in range(len(pages)):
        _, blocks = render_checklist(T, _state(count, page=page))
        assert len(blocks) <= MESSAGE_BLOCKS
    assert len(pages) == 1 or count > 15


def test_a_page_whose_items_are_all_done_gives_way_to_the_next_with_work() -> None:
    first_page = {i.position for i in paginate(_state(60))[0]}

    def shown(state: ChecklistState) -> int:
        return shown_page(state, paginate(state))

    assert shown(_state(60, done=first_page)) == 1
    assert shown(_state(60, done=first_page, page=2)) == 2
    assert shown(_state(60, done=set(range(1, 61)), page=1)) == 1


def test_a_finished_checklist_of_100_long_items_fits_without_buttons() -> None:
    state = _state(100, done=set(range(1, 101)), status="complete", text="{n} " + "word " * 55, notes=2)
    _, blocks = render_readonly(T, state)
    assert len(blocks) <= MESSAGE_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "checklist_sign" not in str(blocks)


def test_template_and_user_text_cannot_mention_or_link() -> None:
    state = _state(1, text="<!channel> deploy <https://evil|here>")
    _, blocks = render_checklist(T, state)
    shown = str(blocks)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown and "<https://evil" not in shown
    assert "Big &lt;release&gt;" in shown
    assert "<!date^1734332400^{date_short_pretty} {time}|2024-12-16 07:00 UTC>" in shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7:3:41", (7, 3, 41)), ("7:3", (7, 3, None)), ("7:3:x", None), ("7:3:", None), (None, None)],
)
def test_click_values_may_name_the_sign_off_an_undo_is_for(
    value: object, expected: tuple[int, int, int | None] | None
) -> None:
    assert parse_click_value(value) == expected


def test_the_undo_button_names_the_sign_off_it_shows() -> None:
    state = _state(2, done={1})
    signed = state.items[0]
    assert signed.standing is not None
    shown = replace(
        state, items=(replace(signed, standing=replace(signed.standing, signoff_id=41)), state.items[1])
    )
    _, blocks = render_checklist(T, shown)
    values = {
        e["action_id"]: e["value"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["value"].startswith("7:1")
    }
    assert values["checklist_undo"] == "7:1:41" and values["checklist_note"] == "7:1"


def test_a_chosen_page_is_shown_even_when_all_its_items_are_done() -> None:
    """Otherwise the Undo and Note buttons of a finished page could never be reached again."""
    first_page = {i.position for i in paginate(_state(60))[0]}
    _, followed = render_checklist(T, _state(60, done=first_page))
    _, chosen = render_checklist(T, _state(60, done=first_page), chosen_page=True)
    assert "item-1" not in str(followed)
    assert "item-1" in str(chosen) and "7:1" in str(chosen) and "checklist_undo" in str(chosen)


def test_a_note_or_reason_cannot_start_a_line_that_looks_like_another_item() -> None:
    forged = "fine\n✅ *2.* Rollback rehearsed — signed by @boss"
    state = _state(2, done={1})
    first = replace(
        state.items[0], standing=Standing("na", "UDEV", AT, forged), notes=(Note("UQA", AT, forged),)
    )
    line = item_line(T, first)
    assert (
        "\n✅" not in line
        and line.count("\n") == 1
        and line.endswith("fine ✅ *2.* Rollback rehearsed — signed by @boss")
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("reason", "notes_shown"), [(None, 1), ("&" * 500, 0)])
def test_an_item_whose_text_reason_and_notes_escape_long_still_fits_its_section(
    lang: str, reason: str | None, notes_shown: int
) -> None:
    """`&` is five characters once escaped: 300 of them, a 200-character reason and notes of `<`."""
    t = Translator(lang)
    state = _state(3, text="&" * 300)
    standing = Standing("na", "UDEV", AT, reason) if reason else None
    notes = tuple(Note("UQA", AT, "<" * 1000) for _ in range(3))
    first = replace(state.items[0], standing=standing, notes=notes)

    _, blocks = render_checklist(t, replace(state, items=(first, *state.items[1:])))

    assert block_errors(blocks, MESSAGE_BLOCKS) == []
    item = next(b for b in blocks if b.get("block_id") == "item-1")["text"]["text"]
    hidden = t("> _{count} earlier notes are in the export_", count=3 - notes_shown)
    assert item.count("📝") == notes_shown and item.endswith(hidden)


def test_a_long_section_heading_is_shortened_on_the_message_but_not_in_the_template() -> None:
    state = _state(2)
    heading = "Rollout " + "& more " * 700
    long = replace(state, items=tuple(replace(i, section=heading) for i in state.items))

    _, blocks = render_checklist(T, long)
    _, final = render_readonly(
        T, replace(long, checklist=long.checklist.model_copy(update={"status": "complete"}))
    )

    assert block_errors(blocks, MESSAGE_BLOCKS) == [] and block_errors(final, MESSAGE_BLOCKS) == []
    assert "Rollout &amp; more" in blocks[2]["text"]["text"] and blocks[2]["text"]["text"].endswith("…*")
    assert long.items[0].section == heading
