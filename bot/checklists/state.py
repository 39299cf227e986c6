"""A checklist as the database has it now: the one thing messages, exports and rules are built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.checklists.trail import detail_of
from storage import checklists as repo
from storage.checklists import Checklist, ChecklistEvent, ChecklistSignoff


@dataclass(frozen=True)
class Standing:
    """The sign-off or N/A an item has now."""

    kind: str  # sign | na
    user_id: str
    at: datetime
    reason: str | None
    signoff_id: int | None = None  # the row an Undo button names, so a stale Undo cannot take another


@dataclass(frozen=True)
class Note:
    user_id: str
    at: datetime
    text: str


@dataclass(frozen=True)
class ItemState:
    position: int
    section: str
    text: str
    owner: str | None
    approval: bool
    standing: Standing | None
    notes: tuple[Note, ...]

    @property
    def done(self) -> bool:
        return self.standing is not None


@dataclass(frozen=True)
class ChecklistState:
    checklist: Checklist
    items: tuple[ItemState, ...]

    @property
    def id(self) -> int:
        assert self.checklist.id is not None
        return self.checklist.id

    @property
    def label(self) -> str:
        return f"{self.checklist.name} v{self.checklist.version}"

    @property
    def complete(self) -> bool:
        return self.checklist.status == repo.COMPLETE

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def signed(self) -> int:
        return sum(1 for item in self.items if item.standing and item.standing.kind == "sign")

    @property
    def not_applicable(self) -> int:
        return sum(1 for item in self.items if item.standing and item.standing.kind == "na")

    @property
    def done(self) -> int:
        return self.signed + self.not_applicable

    def item(self, position: int) -> ItemState | None:
        return next((item for item in self.items if item.position == position), None)

    def open_before_approval(self) -> list[ItemState]:
        """The items that still stand between the checklist and its approval."""
        return [item for item in self.items if not item.approval and not item.done]

    @property
    def approval(self) -> ItemState | None:
        return next((item for item in self.items if item.approval), None)


def load_state(
    session: Session, checklist_id: int, checklist: Checklist | None = None
) -> ChecklistState | None:
    checklist = checklist or repo.get(session, checklist_id)
    if checklist is None:
        return None
    standing = {s.position: s for s in repo.signoffs(session, checklist_id) if s.undone_at is None}
    notes = _notes(repo.events(session, checklist_id))
    items = tuple(
        ItemState(
            position=row.position,
            section=row.section,
            text=row.text,
            owner=row.owner,
            approval=row.approval,
            standing=_standing(standing.get(row.position)),
            notes=tuple(notes.get(row.position, [])),
        )
        for row in repo.items(session, checklist_id)
    )
    return ChecklistState(checklist=checklist, items=items)


def _standing(row: ChecklistSignoff | None) -> Standing | None:
    if row is None:
        return None
    return Standing(kind=row.kind, user_id=row.user_id, at=row.at, reason=row.reason, signoff_id=row.id)


def _notes(events: list[ChecklistEvent]) -> dict[int, list[Note]]:
    found: dict[int, list[Note]] = {}
    for event in events:
        if event.kind == "note" and event.position is not None:
            text = str(detail_of(event).get("note", ""))
            found.setdefault(event.position, []).append(Note(event.actor, event.at, text))
    return found
