"""The hash chain alone: verify names the event that was rewritten, even when its hash was recomputed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.checklists.trail import GENESIS, event_hash, hash_of, verify_chain

AT = datetime(2024, 12, 16, 9, 30, tzinfo=UTC)


@dataclass
class Event:
    checklist_id: int
    seq: int
    kind: str
    position: int | None
    actor: str
    at: datetime
    detail: str
    prev_hash: str
    hash: str


def _chain(*steps: tuple[str, int | None, str]) -> list[Event]:
    events: list[Event] = []
    for seq, (kind, position, actor) in enumerate(steps, start=1):
        values = {
            "checklist_id": 7,
            "seq": seq,
            "kind": kind,
            "position": position,
            "actor": actor,
            "at": AT,
            "detail": "{}",
            "prev_hash": events[-1].hash if events else GENESIS,
        }
        events.append(Event(**values, hash=event_hash(**values)))  # type: ignore[arg-type]
    return events


def _rehashed(event: Event, **changes: object) -> Event:
    """A row rewritten by someone who also recomputed its own hash (but not its successors')."""
    altered = replace(event, **changes)  # type: ignore[arg-type]
    return replace(altered, hash=hash_of(altered))


STEPS = (("start", None, "URM"), ("sign", 2, "UDEV"), ("sign", 3, "UQA"), ("note", 3, "UQA"))


def test_an_intact_chain_verifies() -> None:
    events = _chain(*STEPS)
    assert verify_chain(events, 4, events[-1].hash).intact


def test_a_rewritten_event_with_its_hash_recomputed_is_named_not_its_successor() -> None:
    events = _chain(*STEPS)
    events[1] = _rehashed(events[1], actor="UMALLORY")
    result = verify_chain(events, 4, events[-1].hash)
    assert (result.broken_at, result.problem) == (2, "event 2 (sign, item 2 by UMALLORY) was altered")


def test_a_rewritten_event_whose_hash_was_left_is_named() -> None:
    events = _chain(*STEPS)
    events[2] = replace(events[2], actor="UMALLORY")
    result = verify_chain(events, 4, events[-1].hash)
    assert (result.broken_at, result.problem) == (3, "event 3 (sign, item 3 by UMALLORY) was altered")


def test_a_first_event_relinked_away_from_the_genesis_is_named() -> None:
    events = _chain(*STEPS)
    events[0] = _rehashed(events[0], prev_hash="f" * 64)
    assert verify_chain(events, 4, events[-1].hash).broken_at == 1


def test_a_blanked_head_on_the_checklist_row_does_not_hide_a_cut_off_tail() -> None:
    events = _chain(*STEPS)
    assert verify_chain(events[:2], 4, events[-1].hash).problem == (
        "event 3 was removed (the checklist recorded 4 events)"
    )
    blanked = verify_chain(events[:2], 0, "")  # the count and head of the row were wiped too
    assert not blanked.intact and blanked.broken_at == 2
