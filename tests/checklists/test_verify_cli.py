"""`iris checklist verify` as a subprocess: intact, an altered row, a removed row, bad input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.checklists.rules import Act
from bot.checklists.service import ChecklistService
from tests.checklists.conftest import act, by
from tests.e2e.conftest import iris_command

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def _verify(url: str, checklist: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "IRIS_"))}
    env["IRIS_DATABASE_URL"] = url
    return subprocess.run(
        [*iris_command(), "checklist", "verify", checklist],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _walked(service: ChecklistService) -> int:
    checklist = service.start("automation-patch", "2024-12-17", "C0OPS", by("URM", "checklist.start")).id
    for position, user in ((2, "UDEV"), (3, "UQA"), (4, "UDEV")):
        act(service, Act(checklist, position, "sign", user))
    act(service, Act(checklist, 3, "note", "UQA", "mean recovery 3 min 05 s"))
    return checklist


def test_an_intact_trail_exits_0(db: tuple[Engine, str], service: ChecklistService, tmp_path: Path) -> None:
    checklist = _walked(service)
    done = _verify(db[1], str(checklist), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"checklist {checklist} (automation-patch v1.2): intact: 5 events, head ")


def test_an_altered_event_row_is_named(
    db: tuple[Engine, str], service: ChecklistService, tmp_path: Path
) -> None:
    engine, url = db
    checklist = _walked(service)
    with engine.begin() as connection:  # someone with database access rewrites who signed item 3
        connection.execute(
            text("UPDATE checklist_event SET actor = 'UMALLORY' WHERE checklist_id = :c AND seq = 3"),
            {"c": checklist},
        )
    done = _verify(url, str(checklist), tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip() == (
        f"checklist {checklist} (automation-patch v1.2): TAMPERED: event 3 "
        "(sign, item 3 by UMALLORY) was altered"
    )


def test_a_sign_off_row_edited_by_hand_disagrees_with_the_trail(
    db: tuple[Engine, str], service: ChecklistService, tmp_path: Path
) -> None:
    engine, url = db
    checklist = _walked(service)
    with engine.begin() as connection:  # the message would now show UMALLORY; the trail says UQA
        connection.execute(
            text(
                "UPDATE checklist_signoff SET user_id = 'UMALLORY' WHERE checklist_id = :c AND position = 3"
            ),
            {"c": checklist},
        )
    done = _verify(url, str(checklist), tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip().endswith(
        "TAMPERED: the sign-off of item 3 (sign by UMALLORY) does not match the trail (sign by UQA)"
    )


def test_a_removed_event_row_is_named(
    db: tuple[Engine, str], service: ChecklistService, tmp_path: Path
) -> None:
    engine, url = db
    checklist = _walked(service)
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM checklist_event WHERE checklist_id = :c AND seq = 2"), {"c": checklist}
        )
    done = _verify(url, str(checklist), tmp_path)
    assert done.returncode == 1
    assert "TAMPERED: event 2 was removed (the trail jumps from 1 to 3)" in done.stdout
    with engine.begin() as connection:  # the tail cut off: only the checklist row's own count tells
        connection.execute(
            text("DELETE FROM checklist_event WHERE checklist_id = :c AND seq >= 2"), {"c": checklist}
        )
    tail = _verify(url, str(checklist), tmp_path)
    assert tail.returncode == 1
    assert "TAMPERED: event 2 was removed (the checklist recorded 5 events)" in tail.stdout


def test_bad_input_exits_2_with_one_sentence(db: tuple[Engine, str], tmp_path: Path) -> None:
    unknown = _verify(db[1], "4242", tmp_path)
    assert (unknown.returncode, unknown.stderr.strip()) == (2, "iris: There is no checklist 4242.")
    beyond_any_row = _verify(db[1], "99999999999999999999999", tmp_path)  # was an OverflowError
    assert (beyond_any_row.returncode, beyond_any_row.stderr.strip()) == (
        2,
        "iris: There is no checklist 99999999999999999999999.",
    )
    malformed = _verify(db[1], "seven", tmp_path)
    assert malformed.returncode == 2
    assert (
        malformed.stderr.strip()
        == "iris: 'seven' is not a checklist id (a number, as in /iris checklist show 7)."
    )


def test_check_lists_a_templates_problems_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\nname: bad\nversion: '1'\n---\n## S\n- [x] done already\n- [ ] to do\n")
    done = subprocess.run(
        [*iris_command(), "checklist", "check", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"iris: {bad} is not a valid checklist template: "
        "line 6: items in a template are unchecked `- [ ]`; sign-offs happen in Slack",
    ]
