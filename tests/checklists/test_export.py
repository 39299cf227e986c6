"""The Markdown record: what it shows, and that a tampered trail is reported in it rather than crashing it."""

from __future__ import annotations

from sqlalchemy import Engine, text

from bot.checklists.export import export_markdown
from bot.checklists.rules import Act
from bot.checklists.service import ChecklistService
from tests.checklists.conftest import act, by


def _walked(service: ChecklistService) -> int:
    checklist = service.start("automation-patch", "2024-12-17", "C0OPS", by("URM", "checklist.start")).id
    act(service, Act(checklist, 2, "sign", "UDEV"))
    act(service, Act(checklist, 5, "na", "UQA", "retention already restored"))
    act(service, Act(checklist, 3, "note", "UQA", "5/5 runs"))
    return checklist


def test_the_record_has_items_who_when_reasons_notes_and_an_intact_trail(service: ChecklistService) -> None:
    content = export_markdown(service.record(_walked(service)), "Europe/Paris")
    assert "- Trail: intact: 4 events, head " in content
    assert (
        "- [x] 2. Release notes drafted for the automation patch v1.2 — signed by @UDEV, "
        "2024-12-16 10:30 CET" in content
    )
    assert "— not applicable, @UQA, 2024-12-16 10:30 CET: retention already restored" in content
    assert "  - note by @UQA, 2024-12-16 10:30 CET: 5/5 runs" in content


def test_an_event_detail_edited_into_garbage_is_reported_not_a_crash(
    service: ChecklistService, engine: Engine
) -> None:
    checklist = _walked(service)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE checklist_event SET detail = 'not json' WHERE checklist_id = :c AND seq = 4"),
            {"c": checklist},
        )
    assert service.state(checklist).item(3) is not None  # the message still renders
    content = export_markdown(service.record(checklist), "Europe/Paris")
    assert "- Trail: TAMPERED: event 4 (note, item 3 by UQA) was altered" in content
