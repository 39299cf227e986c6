"""A checklist service over the example templates, on SQLite and PostgreSQL, with roles from a dict."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.checklists.rules import Act
from bot.checklists.service import ChecklistService
from bot.checklists.state import ChecklistState
from storage.audit import Actor, Audit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "checklists"
ROLES = {"admins": {"UADMIN"}, "release_managers": {"URM"}, "approvers": {"UAPPROVER"}, "oncall": set()}
FROZEN = datetime(2024, 12, 16, 9, 30, tzinfo=UTC)


def holds(user_id: str, role: str) -> bool:
    return user_id in ROLES[role] or user_id in ROLES["admins"]


@dataclass
class RecordingPublisher:
    """Records what would be shown, in the transaction it is shown in (the real one writes the outbox)."""

    shown: list[tuple[str, int, int]] = field(default_factory=list)  # (what, checklist id, done)
    chosen_pages: list[int] = field(default_factory=list)  # the pages shown because someone chose them

    def started(self, session: Session, state: ChecklistState) -> int | None:
        self.shown.append(("started", state.id, state.done))
        return None

    def changed(self, session: Session, state: ChecklistState, chosen_page: bool = False) -> None:
        self.shown.append(("changed", state.id, state.done))
        if chosen_page:
            self.chosen_pages.append(state.checklist.page)

    def completed(self, session: Session, state: ChecklistState) -> None:
        self.shown.append(("completed", state.id, state.done))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "checklists"
    shutil.copytree(EXAMPLES, target)
    return target


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def service(engine: Engine, folder: Path, publisher: RecordingPublisher) -> ChecklistService:
    return ChecklistService(engine, folder, holds, lambda: FROZEN, publisher)


def by(user_id: str, action: str) -> Audit:
    return Audit(Actor(user_id, "T1", "C0OPS"), action)


def act(service: ChecklistService, what: Act) -> ChecklistState:
    """One click or form, audited as the person who made it."""
    return service.act(what, by(what.user_id, f"checklist.{what.action}"))
