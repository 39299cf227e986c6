"""`/iris checklist` end to end: `iris serve`, the Slack stand-in, signed clicks and form submissions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine

from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.model import StoredMessage
from bot.slack_standin.server import SlackStandin
from storage import audit
from storage.db import read_scope
from tests.checklists.conftest import EXAMPLES
from tests.e2e.conftest import (
    ADMIN,
    IrisServer,
    database_of,
    driving,
    eventually,
    running,
    server_env,
)

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process

AUDIT_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
RM, APPROVER, DEV, OTHER, OWNER = "URELMGR1", "UAPPROVER1", "UDEV1", "UOTHER1", "UOWNER1"
HOTFIX = f"""\
---
name: hotfix
version: "1"
---
# Hotfix release
## Rollout
- [ ] Freeze announced (owner: release_managers)
- [ ] Patch applied
- [ ] Dashboards checked
- [ ] Rollback rehearsed (owner: <@{OWNER}>)
## Approval
- [ ] Release approved (approval)
"""
BIG = "---\nname: big\nversion: '1'\n---\n" + "".join(
    f"## Part {part}\n" + "".join(f"- [ ] Step {part}.{n}\n" for n in range(1, 13)) for part in range(1, 6)
)


@pytest.fixture
def checklist_iris(standin: SlackStandin, tmp_path: Path) -> Iterator[IrisServer]:
    folder = tmp_path / "checklists"
    shutil.copytree(EXAMPLES, folder)
    (folder / "hotfix.md").write_text(HOTFIX)
    (folder / "big.md").write_text(BIG)
    env = server_env(standin, tmp_path)
    Path(env["IRIS_CONFIG"]).write_text(
        f"roles:\n  admins: [{ADMIN}]\n  release_managers: [{RM}]\n  approvers: [{APPROVER}]\n"
        "folders:\n  checklists: checklists\n"
    )
    yield from running(env, tmp_path)


@pytest.fixture
def iris_db(checklist_iris: IrisServer) -> Iterator[Engine]:
    yield from database_of(checklist_iris)


@pytest.fixture
def slack(checklist_iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(checklist_iris, standin)


def _say(slack: SlackDriver, standin: SlackStandin, text: str, user: str = RM) -> str:
    return slack.answer_text(slack.command(text, user_id=user))


def _click(
    slack: SlackDriver, standin: SlackStandin, action: str, value: str, user: str, **where: str
) -> str:
    """A click that is refused: the private sentence it gets."""
    click = slack.block_action(action, value, user_id=user, **where)
    assert click.status_code == 200 and click.response_url_name is not None
    return str(standin.wait_for_response(click.response_url_name)[0]["text"])


def _press(slack: SlackDriver, action: str, value: str, user: str) -> None:
    """A click that works: it changes the message, and is answered with nothing else."""
    assert slack.block_action(action, value, user_id=user).status_code == 200


def _checklist_message(standin: SlackStandin) -> StoredMessage:
    return standin.wait_for(
        lambda s: next(
            (m for m in s.messages("C0OPS") if m.blocks and "headline" in json.dumps(m.blocks)), None
        )
    )


def _until_shown(standin: SlackStandin, *fragments: str) -> str:
    """Wait until the checklist message (as last edited) shows every fragment; return its blocks as text."""

    def shown(s: SlackStandin) -> str | None:
        found = [m for m in s.messages("C0OPS") if m.blocks and "headline" in json.dumps(m.blocks)]
        text = json.dumps(found[0].blocks, ensure_ascii=False) if found else ""
        return text if found and all(f in text for f in fragments) else None

    return standin.wait_for(shown)


def _open_form(slack: SlackDriver, standin: SlackStandin, action: str, value: str, user: str) -> dict:
    """Click N/A or Note; the modal must be opened with that click's own trigger_id."""
    before = len(standin.calls("views.open"))
    request = slack.build_block_action(action, value, user_id=user)
    trigger_id = json.loads(parse_qs(request.body.decode())["payload"][0])["trigger_id"]
    assert slack.raw(request.body, request.headers).status_code == 200
    [*_, call] = standin.wait_for_calls("views.open", before + 1)
    assert call.params["trigger_id"] == trigger_id
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view


def _trail(engine: Engine) -> list[tuple[str, str, str]]:
    with read_scope(engine) as session:
        return [(e.actor, e.action, e.outcome) for e in audit.since(session, AUDIT_SINCE)]


def test_the_whole_flow_from_start_to_export(
    slack: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    listing = _say(slack, standin, "checklist templates")
    assert "*automation-patch* v1.1 — 12 items" in listing and "*automation-patch* v1.2 — 15 items" in listing
    refused = _say(slack, standin, "checklist start hotfix 2024-12-17", user=DEV)
    assert refused.startswith("Only members of the release_managers role can do that.")

    started = _say(slack, standin, "checklist start hotfix 2024-12-17")
    assert started == "Started checklist 1: `hotfix v1` with 5 items; it is posted in this channel."
    assert eventually(
        lambda: _trail(iris_db) == [(DEV, "checklist.start", "refused"), (RM, "checklist.start", "ok")]
    ), _trail(iris_db)
    message = _checklist_message(standin)
    assert len(message.blocks or []) <= 50 and "0/5 signed" in message.text
    assert "Only members of the release_managers" not in json.dumps(message.blocks)
    assert _say(slack, standin, "checklist", user=DEV).endswith(
        f"1: `hotfix v1` — 2024-12-17, 0/5 signed, started by <@{RM}>"
    )

    # Owners and roles: refused privately, nothing changes.
    assert _click(slack, standin, "checklist_sign", "1:1", DEV) == (
        "Item 1 is for the release_managers role; you are not in it."
    )
    assert _click(slack, standin, "checklist_sign", "1:4", DEV) == (
        f"Item 4 belongs to <@{OWNER}>; only they or an IRIS admin can sign it."
    )
    assert _click(slack, standin, "checklist_sign", "9:x", DEV) == (
        "That button or form was not made by this IRIS; `/iris checklist` lists the open checklists."
    )

    # Sign, and a second click on the same item is told who was first.
    _press(slack, "checklist_sign", "1:2", DEV)
    shown = _until_shown(standin, f"Patch applied — signed by <@{DEV}> <!date^", "1/5 signed")
    assert "checklist_undo" in shown
    assert _click(slack, standin, "checklist_sign", "1:2", OTHER) == (
        f"Item 2 was already signed by <@{DEV}>; the message now shows it."
    )

    # N/A asks for a reason in a modal opened with the click's trigger_id.
    view = _open_form(slack, standin, "checklist_na", "1:3", DEV)
    origin = f"C0OPS {_checklist_message(standin).ts}"  # where the form was opened from
    assert (view["callback_id"], view["private_metadata"]) == ("checklist_na_view", f"1:3 {origin}")
    empty = slack.view_submission(
        "checklist_na_view",
        {"text": {"text_input": {"type": "plain_text_input", "value": "  "}}},
        private_metadata=f"1:3 {origin}",
        user_id=DEV,
    )
    assert empty.json() == {"response_action": "errors", "errors": {"text": "Write a few words."}}
    reason = {"text": {"text_input": {"type": "plain_text_input", "value": "No dashboard change"}}}
    done = slack.view_submission("checklist_na_view", reason, private_metadata=f"1:3 {origin}", user_id=DEV)
    assert done.status_code == 200 and not done.body
    _until_shown(
        standin,
        "~Dashboards checked~",
        "N/A by <@UDEV1>",
        "_No dashboard change_",
        "2/5 done: 1 signed, 1 N/A",
    )
    too_long = {"text": {"text_input": {"value": "x" * 501}}}
    refused = slack.view_submission(
        "checklist_na_view", too_long, private_metadata=f"1:3 {origin}", user_id=DEV
    )
    assert refused.json() == {"response_action": "errors", "errors": {"text": "At most 500 characters."}}
    # The same form sent again, and one forged for an item the sender does not own: told privately.
    slack.view_submission("checklist_na_view", reason, private_metadata=f"1:3 {origin}", user_id=OTHER)
    slack.view_submission("checklist_na_view", reason, private_metadata=f"1:1 {origin}", user_id=OTHER)
    told = standin.wait_for(
        lambda s: (
            [m.text for m in s.ephemerals("C0OPS") if m.user == OTHER][:2]
            if len([m for m in s.ephemerals("C0OPS") if m.user == OTHER]) >= 2
            else None
        )
    )
    assert sorted(told) == sorted(
        [
            f"Item 3 was already marked N/A by <@{DEV}>; the message now shows it.",
            "Item 1 is for the release_managers role; you are not in it.",
        ]
    )

    # A note, through its own modal.
    note_view = _open_form(slack, standin, "checklist_note", "1:2", OTHER)
    assert note_view["callback_id"] == "checklist_note_view"
    slack.view_submission(
        "checklist_note_view",
        {"text": {"text_input": {"value": "deployed to 3 hosts"}}},
        private_metadata=f"1:2 {origin}",
        user_id=OTHER,
    )
    _until_shown(standin, "📝 <@UOTHER1>: deployed to 3 hosts")

    # Undo: the signer or an admin; recorded, and the item is open again.
    assert _click(slack, standin, "checklist_undo", "1:2", OTHER) == (
        f"Only <@{DEV}>, who signed item 2, or an IRIS admin can undo it."
    )
    _press(slack, "checklist_undo", "1:2", DEV)
    _until_shown(standin, "⬜ *2.* Patch applied", "1/5 done: 0 signed, 1 N/A")

    # The approval gate.
    assert _click(slack, standin, "checklist_approve", "1:5", APPROVER) == (
        "The approval waits for 3 more items to be signed or marked N/A, first item 1."
    )
    for value, user in (("1:1", RM), ("1:2", DEV), ("1:4", OWNER)):
        _press(slack, "checklist_sign", value, user)
    _until_shown(standin, "4/5 done: 3 signed, 1 N/A")
    assert _click(slack, standin, "checklist_approve", "1:5", DEV) == (
        "Only members of the approvers role can do that. Ask an IRIS admin to add you to the role in "
        "iris.yml."
    )
    _press(slack, "checklist_approve", "1:5", APPROVER)

    # Completion: the announcement, and the message finalised without buttons.
    announcement = standin.wait_for(
        lambda s: next((m for m in s.messages("C0OPS") if "is complete" in m.text), None)
    )
    assert announcement.text == (
        f"*hotfix v1* for release 2024-12-17 is complete: 5/5, approved by <@{APPROVER}> (1 not applicable)."
    )
    final = _until_shown(standin, "complete", f"approved by <@{APPROVER}>")
    assert "checklist_sign" not in final and "checklist_undo" not in final
    stale = {"message_ts": _checklist_message(standin).ts}  # a client still showing the old buttons
    assert _click(slack, standin, "checklist_sign", "1:2", ADMIN, **stale) == (
        "Checklist 1 is finished; nothing on it can change any more."
    )

    # Export: a Markdown record uploaded through the outbox.
    exported = _say(slack, standin, "checklist export 1", user=DEV)
    assert exported == "Exported checklist 1 as `checklist-1-hotfix-v1.md`; its trail is intact."
    record = standin.wait_for(lambda s: next((f for f in s.files() if f.completed), None))
    content = (record.data or b"").decode()
    assert record.filename == "checklist-1-hotfix-v1.md"
    assert "- Trail: intact: 9 events" in content
    assert "- [-] 3. Dashboards checked — not applicable, @UDEV1" in content
    assert "No dashboard change" in content
    assert "  - note by @UOTHER1" in content and "deployed to 3 hosts" in content
    assert f"- [x] 5. Release approved (approval) — approved by @{APPROVER}" in content
    assert f"| @{DEV} | undo, item 2 |" in content and f"  - undone: signed by @{DEV}" in content
    assert _say(slack, standin, "checklist", user=DEV).startswith("No checklist is open in this channel.")


def test_a_60_item_checklist_pages_within_slack_limits(slack: SlackDriver, standin: SlackStandin) -> None:
    started = _say(slack, standin, "checklist start big")
    assert started.startswith("Started checklist 1: `big v1` with 60 items")
    first = _until_shown(standin, "Step 1.1", "Page 1 of 3")
    assert "Step 5.12" not in first
    assert all(len(m.blocks or []) <= 50 for m in standin.messages("C0OPS"))
    _press(slack, "checklist_page_2", "1:2", DEV)
    last = _until_shown(standin, "Step 5.12")
    assert "Step 1.1 " not in last and len(json.loads(last)) <= 50
    _press(slack, "checklist_sign", "1:60", DEV)
    _until_shown(standin, "Step 5.12 — signed by <@UDEV1>", "1/60 signed")
    shown = slack.command("checklist show 1", user_id=OTHER)
    [private] = standin.wait_for_response(shown.response_url_name)
    assert private["response_type"] == "ephemeral" and len(private["blocks"]) <= 50
    listed = json.dumps(private, ensure_ascii=False)
    assert "*1.* Step 1.1" in listed and "Step 5.12 — signed by <@UDEV1>" in listed
    assert "checklist_sign" not in listed  # read-only: the buttons live on the channel message
    # Another channel cannot read or publish it by guessing its id (it may be a private channel's).
    for command in ("checklist show 1", "checklist export 1"):
        elsewhere = slack.command(command, user_id=OTHER, channel_id="C0ELSEWHERE")
        assert elsewhere.response_url_name is not None
        [answer] = standin.wait_for_response(elsewhere.response_url_name)
        assert answer["text"] == "Checklist 1 belongs to another channel; use this command there."
    assert not standin.files()


def test_diff_show_and_bad_arguments(slack: SlackDriver, standin: SlackStandin) -> None:
    diff = _say(slack, standin, "checklist diff automation-patch", user=DEV)
    assert diff.startswith("v1.1 → v1.2: 12 → 15 items; added: “Elastic APM retention in QA restored")
    assert "removed: “Ops lead sign-off”" in diff and "reworded: “Release notes drafted” → " in diff
    assert _say(slack, standin, "checklist show 42", user=DEV) == "There is no checklist 42."
    assert _say(slack, standin, "checklist start nope", user=RM).startswith("There is no template nope")
    assert _say(slack, standin, "checklist show seven", user=DEV).startswith("`seven` is not a checklist id")
    assert _say(slack, standin, "checklist frobnicate", user=DEV).startswith("Usage: `/iris checklist`")


def test_a_click_or_form_from_another_channel_or_message_changes_nothing(
    slack: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    _say(slack, standin, "checklist start hotfix 2024-12-17")
    message = _checklist_message(standin)
    elsewhere = (
        "This button is not on the message IRIS keeps for it, so nothing was changed; "
        "use the buttons on that message."
    )
    assert _click(slack, standin, "checklist_sign", "1:2", DEV, channel_id="C0OTHER") == elsewhere
    assert _click(slack, standin, "checklist_sign", "1:2", DEV, message_ts="1600000000.000001") == elsewhere
    # The N/A form opened from another channel, and one whose metadata claims another channel.
    refused = slack.block_action("checklist_na", "1:3", user_id=DEV, channel_id="C0OTHER")
    assert standin.wait_for_response(refused.response_url_name)[0]["text"] == elsewhere
    reason = {"text": {"text_input": {"value": "No dashboard change"}}}
    slack.view_submission(
        "checklist_na_view", reason, private_metadata=f"1:3 C0OTHER {message.ts}", user_id=DEV
    )
    told = standin.wait_for(lambda s: [m.text for m in s.ephemerals("C0OPS") if m.user == DEV] or None)
    assert told == [elsewhere]

    assert "0/5 signed" in _checklist_message(standin).text
    with read_scope(iris_db) as session:
        events = audit.since(session, AUDIT_SINCE)
    refusals = [(e.action, e.target, e.outcome, e.channel_id) for e in events if e.outcome == "refused"]
    assert refusals == [
        ("checklist-click", "checklist 1", "refused", "C0OTHER"),
        ("checklist-click", "checklist 1", "refused", "C0OPS"),
        ("checklist-na", "checklist 1", "refused", "C0OTHER"),
        ("checklist-na", "checklist 1", "refused", "C0OTHER"),
    ]
    # From its own message, the same click works.
    _press(slack, "checklist_sign", "1:2", DEV)
    _until_shown(standin, "1/5 signed")
