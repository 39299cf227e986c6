"""The rules through the service on SQLite and PostgreSQL: roles, owners, approval gate, undo, trail."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.checklists.rules import Act, Refused, Stale
from bot.checklists.service import ChecklistService
from bot.checklists.trail import verify_chain
from storage import audit
from storage import checklists as repo
from storage.db import read_scope, session_scope
from tests import lengths
from tests.checklists.conftest import FROZEN, RecordingPublisher, act, by


def _start(
    service: ChecklistService, publisher: RecordingPublisher, reference: str = "automation-patch"
) -> int:
    return service.start(reference, "2024-12-17", "C0OPS", by("URM", "checklist.start")).id


def _act(
    service: ChecklistService,
    publisher: RecordingPublisher,
    checklist: int,
    position: int,
    action: str = "sign",
    user: str = "UDEV",
    text: str = "",
) -> None:
    act(service, Act(checklist, position, action, user, text))


def _refusal(
    service: ChecklistService,
    publisher: RecordingPublisher,
    checklist: int,
    position: int,
    action: str = "sign",
    user: str = "UDEV",
    text: str = "",
) -> str:
    with pytest.raises(Refused) as caught:
        _act(service, publisher, checklist, position, action, user, text)
    return str(caught.value)


def test_start_takes_the_highest_version_and_records_it(
    service: ChecklistService, publisher: RecordingPublisher
) -> None:
    state = service.start("automation-patch", "2024-12-17", "C0OPS", by("URM", "checklist.start"))
    assert (state.label, state.total, state.done, state.checklist.release) == (
        "automation-patch v1.2",
        15,
        0,
        "2024-12-17",
    )
    older = service.start("automation-patch@1.1", "", "C0OPS", by("URM", "checklist.start"))
    assert (older.label, older.total) == ("automation-patch v1.1", 12)
    assert publisher.shown == [("started", state.id, 0), ("started", older.id, 0)]


def test_unknown_templates_and_versions_are_named(
    service: ChecklistService, publisher: RecordingPublisher, folder: Path
) -> None:
    with pytest.raises(Refused, match="There is no template nope"):
        service.start("nope", "", "C0OPS", by("URM", "checklist.start"))
    with pytest.raises(Refused, match=r"has no version 9\.9"):
        service.start("automation-patch@9.9", "", "C0OPS", by("URM", "checklist.start"))
    twin = (folder / "automation-patch-v1.2.md").read_text().replace("Release approved", "Go")
    (folder / "copy.md").write_text(twin)
    with pytest.raises(Refused, match=r"Two files in the checklists folder define automation-patch v1\.2"):
        service.start("automation-patch", "", "C0OPS", by("URM", "checklist.start"))
    (folder / "hotfix.md").write_text("---\nname: hotfix\n---\n")
    with pytest.raises(Refused, match=r"Template file hotfix\.md does not parse"):
        service.start("hotfix", "", "C0OPS", by("URM", "checklist.start"))


def test_sign_na_note_and_undo_change_state_and_every_one_is_on_the_trail(
    service: ChecklistService, publisher: RecordingPublisher, engine: Engine
) -> None:
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 2)
    _act(service, publisher, checklist, 5, "na", text="APM retention is back already")
    _act(service, publisher, checklist, 3, "note", text="5/5 runs, mean recovery 3 min 05 s")
    _act(service, publisher, checklist, 2, "undo")
    _act(service, publisher, checklist, 2, user="UOTHER")
    state = service.state(checklist)
    two, five, three = state.item(2), state.item(5), state.item(3)
    assert two and two.standing and two.standing.user_id == "UOTHER"
    assert (
        five
        and five.standing
        and (five.standing.kind, five.standing.reason) == ("na", "APM retention is back already")
    )
    assert three and [n.text for n in three.notes] == ["5/5 runs, mean recovery 3 min 05 s"]
    assert (state.signed, state.not_applicable, state.done) == (1, 1, 2)
    with read_scope(engine) as session:
        events = repo.events(session, checklist)
        history = repo.signoffs(session, checklist)
    assert [(e.seq, e.kind, e.position, e.actor) for e in events] == [
        (1, "start", None, "URM"),
        (2, "sign", 2, "UDEV"),
        (3, "na", 5, "UDEV"),
        (4, "note", 3, "UDEV"),
        (5, "undo", 2, "UDEV"),
        (6, "sign", 2, "UOTHER"),
    ]
    assert [(s.user_id, s.undone_by) for s in history if s.position == 2] == [
        ("UDEV", "UDEV"),
        ("UOTHER", None),
    ]
    assert verify_chain(events, state.checklist.events, state.checklist.head_hash).intact


def test_owners_restrict_who_may_sign(service: ChecklistService, publisher: RecordingPublisher) -> None:
    checklist = _start(service, publisher)
    assert _refusal(service, publisher, checklist, 1) == (
        "Item 1 is for the release_managers role; you are not in it."
    )
    assert _refusal(service, publisher, checklist, 12, user="URM") == (
        "Item 12 belongs to <@U024BE7LH>; only they or an IRIS admin can sign it."
    )
    assert _refusal(service, publisher, checklist, 12, "na", user="UDEV", text="n/a") == (
        "Item 12 belongs to <@U024BE7LH>; only they or an IRIS admin can sign it."
    )
    _act(service, publisher, checklist, 1, user="URM")
    _act(service, publisher, checklist, 12, user="U024BE7LH")
    _act(service, publisher, checklist, 14, user="UADMIN")  # admins hold every role


def test_undo_is_for_the_signer_or_an_admin(service: ChecklistService, publisher: RecordingPublisher) -> None:
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 2)
    assert _refusal(service, publisher, checklist, 2, "undo", user="UOTHER") == (
        "Only <@UDEV>, who signed item 2, or an IRIS admin can undo it."
    )
    assert _refusal(service, publisher, checklist, 3, "undo") == "Item 3 has no sign-off to undo."
    _act(service, publisher, checklist, 2, "undo", user="UADMIN")
    assert _refusal(service, publisher, checklist, 2, "undo") == "Item 2 has no sign-off to undo."


def test_repeated_and_malformed_actions_are_refused(
    service: ChecklistService, publisher: RecordingPublisher
) -> None:
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 2)
    assert _refusal(service, publisher, checklist, 2, user="UOTHER") == (
        "Item 2 was already signed by <@UDEV>; the message now shows it."
    )
    assert _refusal(service, publisher, checklist, 99) == f"Checklist {checklist} has no item 99."
    assert _refusal(service, publisher, checklist, 3, "na", text="   ") == (
        "Say why the item does not apply (up to 500 characters)."
    )
    assert _refusal(service, publisher, checklist, 3, "note", text="x" * 1001) == (
        "A note needs some text (up to 1000 characters)."
    )
    assert _refusal(service, publisher, checklist, 15, "na", user="UAPPROVER", text="no") == (
        "The approval step cannot be marked not applicable."
    )
    assert _refusal(service, publisher, 12345, 1) == "There is no checklist 12345."


def test_the_approval_waits_for_every_other_item_then_completes_the_checklist(
    service: ChecklistService, publisher: RecordingPublisher
) -> None:
    checklist = _start(service, publisher)
    assert _refusal(service, publisher, checklist, 15, "approve", user="UDEV") == (
        "Only members of the approvers role can do that. Ask an IRIS admin to add you to the role in "
        "iris.yml."
    )
    assert _refusal(service, publisher, checklist, 15, "approve", user="UAPPROVER") == (
        "The approval waits for 14 more items to be signed or marked N/A, first item 1."
    )
    for position in range(1, 15):
        _act(service, publisher, checklist, position, user="UADMIN")
    state = act(service, Act(checklist, 15, "approve", "UAPPROVER"))
    assert state.complete and state.checklist.approved_by == "UAPPROVER" and state.done == 15
    assert publisher.shown[-1] == ("completed", checklist, 15)
    assert _refusal(service, publisher, checklist, 1, "undo", user="UADMIN") == (
        f"Checklist {checklist} is finished; nothing on it can change any more."
    )


def test_simultaneous_sign_offs_of_one_item_make_exactly_one(
    service: ChecklistService, publisher: RecordingPublisher, engine: Engine
) -> None:
    checklist = _start(service, publisher)
    clickers = [f"UCLICK{n}" for n in range(8)]
    barrier = threading.Barrier(len(clickers))
    outcomes: dict[str, str] = {}

    def click(user: str) -> None:
        barrier.wait()
        try:
            _act(service, publisher, checklist, 2, user=user)
            outcomes[user] = "signed"
        except Refused as exc:
            outcomes[user] = str(exc)

    threads = [threading.Thread(target=click, args=(user,)) for user in clickers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [user for user, outcome in outcomes.items() if outcome == "signed"]
    assert len(outcomes) == len(clickers) and len(winners) == 1, outcomes
    losers = {outcome for outcome in outcomes.values() if outcome != "signed"}
    assert losers == {f"Item 2 was already signed by <@{winners[0]}>; the message now shows it."}
    with read_scope(engine) as session:
        standing = [s for s in repo.signoffs(session, checklist) if s.position == 2]
        events = repo.events(session, checklist)
    assert [(s.user_id, s.undone_at) for s in standing] == [(winners[0], None)]
    assert [(e.kind, e.actor) for e in events] == [("start", "URM"), ("sign", winners[0])]


def test_diff_compares_stored_versions(service: ChecklistService, folder: Path) -> None:
    diff = service.library.diff("automation-patch", None, None)
    assert (diff.before.version, diff.after.version) == ("1.1", "1.2")
    assert len(diff.added) == 4 and len(diff.removed) == 1 and len(diff.reworded) == 5
    (folder / "automation-patch-v1.1.md").unlink()  # a version once loaded stays comparable
    again = service.library.diff("automation-patch", "1.1", "v1.2")
    assert [i.text for i in again.removed] == ["Ops lead sign-off"]
    with pytest.raises(Refused, match=r"has no version 3.0; known: 1.1, 1.2"):
        service.library.diff("automation-patch", "3.0", None)


def test_a_stale_undo_does_not_take_the_sign_off_given_after_its_message(
    service: ChecklistService, publisher: RecordingPublisher
) -> None:
    """An admin's Undo on a message showing UDEV's sign-off must not undo UOTHER's newer one."""
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 2)
    first = service.state(checklist).item(2)
    assert first and first.standing and first.standing.signoff_id is not None
    _act(service, publisher, checklist, 2, "undo")
    _act(service, publisher, checklist, 2, user="UOTHER")
    with pytest.raises(Stale) as caught:
        act(service, Act(checklist, 2, "undo", "UADMIN", signoff_id=first.standing.signoff_id))
    assert str(caught.value) == (
        "Item 2 was signed again by <@UOTHER> since that message; the message now shows it."
    )
    now = service.state(checklist).item(2)
    assert now and now.standing and now.standing.user_id == "UOTHER"
    act(service, Act(checklist, 2, "undo", "UADMIN", signoff_id=now.standing.signoff_id))
    assert service.state(checklist).item(2).standing is None  # type: ignore[union-attr]


def test_turning_to_a_page_shows_that_page_and_a_stale_click_follows_the_work(
    service: ChecklistService, publisher: RecordingPublisher
) -> None:
    checklist = _start(service, publisher)
    service.show_again(checklist, page=0)
    service.show_again(checklist)
    assert publisher.chosen_pages == [0]


def test_losing_the_insert_race_to_an_n_a_says_n_a(
    service: ChecklistService, publisher: RecordingPublisher, engine: Engine
) -> None:
    """The unique index refuses the insert (another replica won after our read): the answer names what won."""
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 3, "na", user="UQA", text="nothing to check")
    with session_scope(engine) as session, pytest.raises(Stale) as caught:
        ChecklistService._sign(session, checklist, Act(checklist, 3, "sign", "UDEV"), FROZEN)
    assert str(caught.value) == "Item 3 was already marked N/A by <@UQA>; the message now shows it."


def test_every_act_is_audited_in_its_own_transaction_and_a_refusal_on_its_own(
    service: ChecklistService, publisher: RecordingPublisher, engine: Engine
) -> None:
    checklist = _start(service, publisher)
    _act(service, publisher, checklist, 2)
    _act(service, publisher, checklist, 5, "na", text="APM retention is back already")
    _refusal(service, publisher, checklist, 2, user="UOTHER")
    with read_scope(engine) as session:
        trail = [
            (e.action, e.target, e.actor, e.outcome)
            for e in audit.since(session, datetime(2000, 1, 1, tzinfo=UTC))
        ]
    assert trail == [
        ("checklist.start", str(checklist), "URM", "ok"),
        ("checklist.sign", f"{checklist}:2", "UDEV", "ok"),
        ("checklist.na", f"{checklist}:5", "UDEV", "ok"),
        ("checklist.sign", f"{checklist}:2", "UOTHER", "refused"),
    ]


def test_a_sign_off_whose_audit_row_fails_is_not_kept(
    service: ChecklistService, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    checklist = _start(service, publisher)

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        _act(service, publisher, checklist, 2)
    item = service.state(checklist).item(2)
    assert item is not None and item.standing is None
    assert publisher.shown == [("started", checklist, 0)]  # nothing was shown as signed either


def test_a_version_seen_for_the_first_time_keeps_what_changed_since_the_one_before(
    service: ChecklistService, engine: Engine
) -> None:
    service.library.scan()
    service.library.scan()  # a second look stores nothing new
    with read_scope(engine) as session:
        rows = {row.version: row for row in repo.template_versions(session, "automation-patch")}
    assert set(rows) == {"1.1", "1.2"} and rows["1.1"].changes is None
    changes = json.loads(rows["1.2"].changes or "{}")
    assert (changes["from"], changes["from_items"], rows["1.2"].item_count) == ("1.1", 12, 15)
    assert (len(changes["added"]), len(changes["removed"]), len(changes["reworded"])) == (4, 1, 5)


def test_the_longest_title_section_item_and_owner_a_template_admits_are_stored(
    service: ChecklistService, folder: Path
) -> None:
    heading, owner = lengths.longest("checklist heading"), lengths.longest("template owner id")
    (folder / "longest.md").write_text(
        f'---\nname: longest\nversion: "1"\n---\n# {heading}\n## {heading}\n'
        f"- [ ] {'i' * 300} (owner: <@{owner}>)\n"
    )
    state = service.start(
        "longest", lengths.longest("checklist release"), "C0OPS", by("URM", "checklist.start")
    )
    assert state.checklist.title == heading and state.checklist.release == lengths.longest(
        "checklist release"
    )
    (item,) = state.items
    assert (item.section, item.owner, len(item.text)) == (heading, owner, 300)
