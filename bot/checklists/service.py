"""Starts checklists and applies every action in one transaction with its trail event and its message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from bot.checklists.library import TemplateLibrary
from bot.checklists.rules import Act, Holds, Stale, already_done, check
from bot.checklists.state import ChecklistState, load_state
from bot.checklists.trail import GENESIS, Verification, detail_json, event_hash, verify_record
from bot.errors import Refused
from bot.i18n import N_
from storage import checklists as repo
from storage.audit import Audit
from storage.checklists import Checklist, ChecklistEvent, ChecklistItem, ChecklistSignoff
from storage.db import read_scope, session_scope

MAX_RELEASE = 120


class Publisher(Protocol):
    """The engine's port to where a checklist is shown (commands/checklists implements it for Slack).

    Called inside the transaction that changed the checklist, so a change and its message commit together.
    """

    def started(self, session: Session, state: ChecklistState) -> int | None: ...

    def changed(self, session: Session, state: ChecklistState, chosen_page: bool = False) -> None: ...

    def completed(self, session: Session, state: ChecklistState) -> None: ...


@dataclass(frozen=True)
class Record:
    """Everything an export shows: the state, every sign-off ever given, the trail and its check."""

    state: ChecklistState
    signoffs: list[ChecklistSignoff]
    events: list[ChecklistEvent]
    verification: Verification


class ChecklistService:
    def __init__(
        self, engine: Engine, folder: Path, holds: Holds, clock: Callable[[], datetime], publisher: Publisher
    ) -> None:
        self._engine = engine
        self._holds = holds
        self._clock = clock
        self._publisher = publisher
        self.library = TemplateLibrary(engine, folder)

    def start(self, reference: str, release: str, channel_id: str, audit: Audit) -> ChecklistState:
        """Post a new checklist of the template (`name` or `name@version`); its first event is the start."""
        if len(release) > MAX_RELEASE:
            raise Refused(N_("A release name has at most {limit} characters."), limit=MAX_RELEASE)
        user_id = audit.actor.user_id
        template, row = self.library.for_start(reference)
        assert row.id is not None
        checklist = Checklist(
            template_id=row.id,
            name=template.name,
            version=template.version,
            title=template.title[:255],
            release=release,
            channel_id=channel_id,
            started_by=user_id,
            started_at=self._clock(),
        )
        items = [
            ChecklistItem(
                checklist_id=0,
                position=i.position,
                section=i.section[:255],
                text=i.text,
                owner=i.owner,
                approval=i.approval,
            )
            for i in template.items
        ]
        detail = {
            "template": template.name,
            "version": template.version,
            "hash": template.content_hash,
            "release": release,
            "items": len(items),
        }
        with session_scope(self._engine) as session:
            repo.create(session, checklist, items)
            self._event(session, checklist, "start", None, user_id, detail)
            state = self._state(session, checklist)
            audit.record(session, str(state.id), template=state.label, release=release)
            message_id = self._publisher.started(session, state)
            if message_id is not None:
                repo.set_values(session, state.id, message_id=message_id)
                checklist.message_id = message_id
        return state

    def act(self, act: Act, audit: Audit) -> ChecklistState:
        """Apply one action, audited in its transaction; a refusal (nothing changed) is audited too.

        A stale click (the item changed since the message was drawn) also shows the message afresh.
        """
        target = f"{act.checklist_id}:{act.position}"
        try:
            return self._act(act, audit, target)
        except Refused as exc:
            with session_scope(self._engine) as session:
                audit.refused(session, target, why=str(exc))
            if isinstance(exc, Stale):
                self.show_again(act.checklist_id)
            raise

    def _act(self, act: Act, audit: Audit, target: str) -> ChecklistState:
        with session_scope(self._engine) as session:
            checklist = repo.lock(session, act.checklist_id)
            if checklist is None:
                raise Refused(N_("There is no checklist {id}."), id=act.checklist_id)
            before = self._state(session, checklist)
            check(before, act, self._holds)
            self._apply(session, checklist, before, act)
            audit.record(session, target)
            after = self._state(session, checklist)
            if self._finished(after):
                after = self._complete(session, checklist, after)
                self._publisher.completed(session, after)
            else:
                self._publisher.changed(session, after)
        return after

    @staticmethod
    def _finished(state: ChecklistState) -> bool:
        """Approved, or, for a template without an approval step, every item done."""
        return state.approval.done if state.approval is not None else state.done == state.total

    def _complete(self, session: Session, checklist: Checklist, state: ChecklistState) -> ChecklistState:
        standing = state.approval.standing if state.approval is not None else None
        checklist.status, checklist.completed_at = repo.COMPLETE, self._clock()
        checklist.approved_by = standing.user_id if standing is not None else None
        session.add(checklist)
        session.flush()
        return self._state(session, checklist)

    def precheck(self, act: Act) -> None:
        """The same rules without writing anything: a modal is opened only for an act that could pass."""
        with read_scope(self._engine) as session:
            checklist = repo.get(session, act.checklist_id)
            if checklist is None:
                raise Refused(N_("There is no checklist {id}."), id=act.checklist_id)
            check(self._state(session, checklist), act, self._holds)

    def show_again(self, checklist_id: int, page: int | None = None) -> ChecklistState:
        """Render the message afresh (after a stale click), on another page when one is asked for."""
        with session_scope(self._engine) as session:
            checklist = repo.lock(session, checklist_id)
            if checklist is None:
                raise Refused(N_("There is no checklist {id}."), id=checklist_id)
            if checklist.status == repo.COMPLETE:
                if page is None:
                    return self._state(session, checklist)
                raise Refused(
                    N_("Checklist {id} is finished; nothing on it can change any more."), id=checklist_id
                )
            if page is not None:
                checklist.page = max(0, page)
                session.add(checklist)
                session.flush()
            state = self._state(session, checklist)
            self._publisher.changed(session, state, chosen_page=page is not None)
        return state

    def _apply(self, session: Session, checklist: Checklist, state: ChecklistState, act: Act) -> None:
        item = state.item(act.position)
        assert item is not None and checklist.id is not None
        now, detail = self._clock(), dict[str, Any](item=item.text)
        if act.action == "undo":
            signoff = repo.standing(session, checklist.id, act.position)
            assert signoff is not None
            repo.undo_signoff(session, signoff, by=act.user_id, at=now)
            detail |= {"undid": signoff.kind, "signed_by": signoff.user_id, "signoff": signoff.id}
        elif act.action == "note":
            detail |= {"note": act.text.strip()}
        else:
            detail |= self._sign(session, checklist.id, act, now)
        self._event(session, checklist, act.action, act.position, act.user_id, detail, now)

    @staticmethod
    def _sign(session: Session, checklist_id: int, act: Act, now: datetime) -> dict[str, Any]:
        """A sign-off, an approval or an N/A; the unique index has the last word on a race."""
        kind = "na" if act.action == "na" else "sign"
        reason = act.text.strip() if kind == "na" else None
        signoff = ChecklistSignoff(
            checklist_id=checklist_id,
            position=act.position,
            kind=kind,
            user_id=act.user_id,
            at=now,
            reason=reason,
        )
        try:
            repo.add_signoff(session, signoff)
        except repo.AlreadySigned as exc:  # another replica won between our read and our insert
            raise already_done(act.position, exc.standing.kind, exc.standing.user_id) from None
        return {"reason": reason} if reason else {}

    def _event(
        self,
        session: Session,
        checklist: Checklist,
        kind: str,
        position: int | None,
        actor: str,
        detail: dict[str, Any],
        at: datetime | None = None,
    ) -> ChecklistEvent:
        assert checklist.id is not None
        values: dict[str, Any] = {
            "checklist_id": checklist.id,
            "seq": checklist.events + 1,
            "kind": kind,
            "position": position,
            "actor": actor,
            "at": at or self._clock(),
            "detail": detail_json(detail),
            "prev_hash": checklist.head_hash or GENESIS,
        }
        return repo.append_event(session, checklist, ChecklistEvent(**values, hash=event_hash(**values)))

    @staticmethod
    def _state(session: Session, checklist: Checklist) -> ChecklistState:
        assert checklist.id is not None
        state = load_state(session, checklist.id, checklist)
        assert state is not None
        return state

    def state(self, checklist_id: int) -> ChecklistState:
        with read_scope(self._engine) as session:
            state = load_state(session, checklist_id)
        if state is None:
            raise Refused(N_("There is no checklist {id}."), id=checklist_id)
        return state

    def open_in(self, channel_id: str) -> list[ChecklistState]:
        with read_scope(self._engine) as session:
            found = [
                load_state(session, c.id, c)
                for c in repo.open_in_channel(session, channel_id)
                if c.id is not None
            ]
        return [state for state in found if state is not None]

    def record(self, checklist_id: int) -> Record:
        with read_scope(self._engine) as session:
            state = load_state(session, checklist_id)
            if state is None:
                raise Refused(N_("There is no checklist {id}."), id=checklist_id)
            signoffs, events = repo.signoffs(session, checklist_id), repo.events(session, checklist_id)
        standing = {s.position: (s.kind, s.user_id) for s in signoffs if s.undone_at is None}
        verification = verify_record(events, state.checklist.events, state.checklist.head_hash, standing)
        return Record(state, signoffs, events, verification)
