"""The hash-chained trail: every event stores the hash of the one before; verify names the first break."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64
EVENT_KINDS = ("start", "sign", "na", "note", "undo", "approve")


class EventLike(Protocol):
    """What the chain covers of a stored event (storage.checklists.ChecklistEvent has these fields)."""

    checklist_id: int
    seq: int
    kind: str
    position: int | None
    actor: str
    at: datetime
    detail: str
    prev_hash: str
    hash: str


def canonical_time(moment: datetime) -> str:
    """One spelling of a moment whatever the database gives back (SQLite returns naive UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    checklist_id: int,
    seq: int,
    kind: str,
    position: int | None,
    actor: str,
    at: datetime,
    detail: str,
    prev_hash: str,
) -> str:
    body = {
        "checklist": checklist_id,
        "seq": seq,
        "kind": kind,
        "position": position,
        "actor": actor,
        "at": canonical_time(at),
        "detail": detail,
        "prev": prev_hash,
    }
    encoded = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def hash_of(event: EventLike) -> str:
    return event_hash(
        checklist_id=event.checklist_id,
        seq=event.seq,
        kind=event.kind,
        position=event.position,
        actor=event.actor,
        at=event.at,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class Verification:
    """The result of recomputing a chain; `problem` names the first event that breaks it."""

    events: int
    head: str
    broken_at: int | None = None  # the seq of the first altered or removed event
    problem: str = ""  # set when the chain breaks, or when the sign-offs disagree with it

    @property
    def intact(self) -> bool:
        return not self.problem

    def sentence(self) -> str:
        if self.intact:
            return f"intact: {self.events} events, head {self.head[:12]}"
        return f"TAMPERED: {self.problem}"


def verify_chain(events: Sequence[EventLike], expected_count: int, expected_head: str) -> Verification:
    """Walk the events in seq order; the checklist row's own count and head catch a cut-off tail."""
    head = GENESIS
    for seq, event in enumerate(events, start=1):
        broken = _broken_link(events, seq, head)
        if broken is not None:
            return broken
        head = event.hash
    return _broken_tail(events, head, expected_count, expected_head) or Verification(len(events), head)


def _broken_link(events: Sequence[EventLike], seq: int, previous: str) -> Verification | None:
    """Event `seq` (1-based) against the hash of the one before it."""
    event = events[seq - 1]
    if event.seq != seq:
        return _broken(
            len(events),
            previous,
            seq,
            f"event {seq} was removed (the trail jumps from {seq - 1} to {event.seq})",
        )
    if hash_of(event) != event.hash:
        return _altered(events, previous, event)
    if event.prev_hash != previous:
        # This event is whole; the one before no longer has the hash it recorded, so that one was
        # rewritten and its hash recomputed (or, for the first event, this one's link was).
        return _altered(events, previous, events[seq - 2] if seq > 1 else event)
    return None


def _broken_tail(
    events: Sequence[EventLike], head: str, expected_count: int, expected_head: str
) -> Verification | None:
    count = len(events)
    if count < expected_count:
        return _broken(
            count,
            head,
            count + 1,
            f"event {count + 1} was removed (the checklist recorded {expected_count} events)",
        )
    # A checklist always has its start event, so an empty recorded head is itself a change.
    if head != (expected_head or GENESIS):
        return _broken(
            count,
            head,
            count,
            f"event {count} does not end the chain the checklist recorded "
            "(it was altered or events were added)",
        )
    return None


def _altered(events: Sequence[EventLike], head: str, event: EventLike) -> Verification:
    return _broken(len(events), head, event.seq, f"event {event.seq} ({describe(event)}) was altered")


def _broken(count: int, head: str, seq: int, problem: str) -> Verification:
    return Verification(events=count, head=head, broken_at=seq, problem=problem)


def describe(event: EventLike) -> str:
    item = f", item {event.position}" if event.position is not None else ""
    return f"{event.kind}{item} by {event.actor}"


def detail_of(event: EventLike) -> dict[str, Any]:
    """An event's detail as written; a row edited into something else reads as empty (verify names it)."""
    try:
        detail = json.loads(event.detail)
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def detail_json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


Standing = dict[int, tuple[str, str]]  # item position → (sign | na, who)


def replay(events: Sequence[EventLike]) -> Standing:
    """The sign-offs the trail says stand now: what the checklist's rows must agree with."""
    standing: Standing = {}
    for event in events:
        if event.position is None:
            continue
        if event.kind in ("sign", "approve", "na"):
            standing[event.position] = ("na" if event.kind == "na" else "sign", event.actor)
        elif event.kind == "undo":
            standing.pop(event.position, None)
    return standing


def verify_record(
    events: Sequence[EventLike], expected_count: int, expected_head: str, standing: Standing
) -> Verification:
    """The chain, then the sign-off rows against a replay of it (a row edited by hand shows here)."""
    chain = verify_chain(events, expected_count, expected_head)
    if not chain.intact:
        return chain
    replayed = replay(events)
    for position in sorted(set(replayed) | set(standing)):
        if replayed.get(position) != standing.get(position):
            problem = (
                f"the sign-off of item {position} ({_shown(standing.get(position))}) does not match "
                f"the trail ({_shown(replayed.get(position))})"
            )
            return Verification(events=chain.events, head=chain.head, problem=problem)
    return chain


def _shown(entry: tuple[str, str] | None) -> str:
    return "none" if entry is None else f"{entry[0]} by {entry[1]}"
