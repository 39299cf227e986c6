"""Who may do what to which item, and when: pure checks over a ChecklistState."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.checklists.state import ChecklistState, ItemState
from bot.errors import Refused
from bot.i18n import N_

# holds(user_id, role): the roles from iris.yml, admins holding every role (bot.permissions.Roles).
Holds = Callable[[str, str], bool]
ACTIONS = ("sign", "na", "note", "undo", "approve")
MAX_REASON = 500
MAX_NOTE = 1000


class Stale(Refused):
    """The click was made on a state that has changed since: the message is shown afresh."""


@dataclass(frozen=True)
class Act:
    """One person's action on one item of a checklist."""

    checklist_id: int
    position: int
    action: str  # one of ACTIONS
    user_id: str
    text: str = ""  # the N/A reason or the note
    signoff_id: int | None = None  # for an undo: the sign-off the clicked message showed


def check(state: ChecklistState, act: Act, holds: Holds) -> ItemState:
    """The item the act is about, or Refused with the sentence that explains why not."""
    if state.complete:
        raise Refused(N_("Checklist {id} is finished; nothing on it can change any more."), id=state.id)
    item = state.item(act.position)
    if item is None:
        raise Refused(N_("Checklist {id} has no item {position}."), id=state.id, position=act.position)
    CHECKS[act.action](state, item, act, holds)
    return item


def _sign(state: ChecklistState, item: ItemState, act: Act, holds: Holds) -> None:
    if item.approval:
        raise Refused(N_("This is the approval step: use Approve."))
    _not_done(item)
    _owner(item, act.user_id, holds)


def _na(state: ChecklistState, item: ItemState, act: Act, holds: Holds) -> None:
    if item.approval:
        raise Refused(N_("The approval step cannot be marked not applicable."))
    _not_done(item)
    _owner(item, act.user_id, holds)
    _text(act.text, MAX_REASON, N_("Say why the item does not apply (up to {limit} characters)."))


def _note(state: ChecklistState, item: ItemState, act: Act, holds: Holds) -> None:
    _text(act.text, MAX_NOTE, N_("A note needs some text (up to {limit} characters)."))


def _undo(state: ChecklistState, item: ItemState, act: Act, holds: Holds) -> None:
    if item.standing is None:
        raise Stale(N_("Item {position} has no sign-off to undo."), position=item.position)
    if act.signoff_id is not None and item.standing.signoff_id != act.signoff_id:
        raise Stale(
            N_("Item {position} was signed again by <@{user}> since that message; the message now shows it."),
            position=item.position,
            user=item.standing.user_id,
        )
    if item.standing.user_id != act.user_id and not holds(act.user_id, "admins"):
        raise Refused(
            N_("Only <@{user}>, who signed item {position}, or an IRIS admin can undo it."),
            user=item.standing.user_id,
            position=item.position,
        )


def _approve(state: ChecklistState, item: ItemState, act: Act, holds: Holds) -> None:
    if not item.approval:
        raise Refused(N_("Item {position} is not the approval step."), position=item.position)
    if not holds(act.user_id, "approvers"):
        raise Refused(
            N_(
                "Only members of the {role} role can do that. Ask an IRIS admin to add you to "
                "the role in iris.yml."
            ),
            role="approvers",
        )
    _owner(item, act.user_id, holds)
    waiting = state.open_before_approval()
    if waiting:
        raise Refused(
            N_(
                "The approval waits for {count} more items to be signed or marked N/A, first item {position}."
            ),
            count=len(waiting),
            position=waiting[0].position,
        )


def _not_done(item: ItemState) -> None:
    if item.standing is not None:
        raise already_done(item.position, item.standing.kind, item.standing.user_id)


def already_done(position: int, kind: str, user_id: str) -> Stale:
    """The answer to a sign-off or N/A of an item that someone else signed or marked N/A first."""
    if kind == "sign":
        return Stale(
            N_("Item {position} was already signed by <@{user}>; the message now shows it."),
            position=position,
            user=user_id,
        )
    return Stale(
        N_("Item {position} was already marked N/A by <@{user}>; the message now shows it."),
        position=position,
        user=user_id,
    )


def _owner(item: ItemState, user_id: str, holds: Holds) -> None:
    owner = item.owner
    if owner is None or owner == user_id or holds(user_id, "admins"):
        return
    if owner.startswith(("U", "W")):
        raise Refused(
            N_("Item {position} belongs to <@{owner}>; only they or an IRIS admin can sign it."),
            position=item.position,
            owner=owner,
        )
    if not holds(user_id, owner):
        raise Refused(
            N_("Item {position} is for the {role} role; you are not in it."),
            position=item.position,
            role=owner,
        )


def _text(text: str, limit: int, message: str) -> None:
    if not text.strip() or len(text) > limit:
        raise Refused(message, limit=limit)


CHECKS: dict[str, Callable[[ChecklistState, ItemState, Act, Holds], None]] = {
    "sign": _sign,
    "na": _na,
    "note": _note,
    "undo": _undo,
    "approve": _approve,
}
