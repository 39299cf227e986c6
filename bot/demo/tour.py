"""`iris demo --tour`: the brief's day in under a minute, each step done through the page's SlackClient
(so it shows in the page) and checked against what the Slack stand-in really received."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.demo.client import Click, PlaygroundRefusal, SlackClient
from bot.demo.world import INCIDENTS, OPS, PEOPLE, RELEASE, REPORTS, SCENARIO, YOU, Person
from bot.slack_standin.model import StoredMessage
from bot.slack_standin.server import SlackStandin

RELEASE_MANAGER, ONCALL = PEOPLE[1], PEOPLE[3]
STOP_CHECK_S = 0.5  # how often a step's wait looks whether the demo is stopping
Say = Callable[[str], None]
Evidence = Callable[[SlackStandin], str | None]  # a one-line description of what shows the step worked


@dataclass(frozen=True)
class Step:
    narration: str
    act: Callable[[], None]
    evidence: Evidence
    timeout: float = 30.0


def run_tour(client: SlackClient, say: Say, stop: threading.Event | None = None) -> bool:
    """Run every step; True when each one's evidence was seen in the stand-in's record."""
    stop = stop or threading.Event()
    steps = _steps(client)
    say(f"tour: {len(steps)} steps; watch them in the page as they happen.")
    for number, step in enumerate(steps, 1):
        if stop.is_set():
            return False
        say(f"tour {number}/{len(steps)}: {step.narration}")
        try:
            step.act()
            seen = _watch(client.standin, step, stop)
        except (PlaygroundRefusal, RuntimeError, TimeoutError) as exc:
            say(f"  ✗ {exc}; the tour stops here.")
            return False
        if seen is None:
            if not stop.is_set():
                say(f"  ✗ not seen within {step.timeout:.0f} s; the tour stops here.")
            return False
        say(f"  ✓ {seen}")
    say("tour finished: every step is in the page. The playground stays open; Ctrl-C stops it.")
    return True


def _watch(standin: SlackStandin, step: Step, stop: threading.Event) -> str | None:
    """The step's evidence once it shows, or None when its time runs out or the demo is stopping."""
    deadline = time.monotonic() + step.timeout
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        try:
            return standin.wait_for(step.evidence, timeout=min(left, STOP_CHECK_S))
        except TimeoutError:
            continue
    return None


def _steps(pg: SlackClient) -> list[Step]:
    return [
        Step(
            "/iris help in #ops: the answer only you see",
            lambda: pg.do_command(OPS.id, YOU.id, "/iris help"),
            _ephemeral_for(OPS.id, YOU, "IRIS commands"),
        ),
        Step(
            "a briefing in two minutes, with a reminder 90 s before it (checked at the end)",
            lambda: pg.do_command(OPS.id, YOU.id, '/iris brief add "Cross-team briefing" in 2m remind=90s'),
            _ephemeral_for(OPS.id, YOU, "*Cross-team briefing* is scheduled"),
        ),
        Step(
            "@hyejin starts the automation-patch release checklist in #release",
            lambda: pg.do_command(RELEASE.id, RELEASE_MANAGER.id, "/iris checklist start automation-patch"),
            _message_in(RELEASE.id, "automation-patch"),
        ),
        Step(
            "she signs off the first two items",
            lambda: _click_item_buttons(pg, 0, items=2),
            _message_in(RELEASE.id, "2/15"),
        ),
        Step(
            "item 3 does not apply: N/A with a reason, through the modal",
            lambda: _not_applicable(pg, "No APM change in this release"),
            _message_in(RELEASE.id, "No APM change in this release"),
        ),
        Step(
            f"the example rehearsal {SCENARIO}: 504s injected, the script retries (back-off shortened)",
            lambda: pg.do_command(RELEASE.id, RELEASE_MANAGER.id, f"/iris rehearse {SCENARIO}"),
            _file_in(RELEASE.id, ".png"),
            timeout=120.0,
        ),
        Step(
            "Alertmanager fires a RetryBurst group: one message in #incidents",
            lambda: pg.fire_alert("firing"),
            _message_in(INCIDENTS.id, "RetryBurst"),
        ),
        Step(
            "the group resolves: the message is edited and the thread says so",
            lambda: pg.fire_alert("resolved"),
            _reply_in(INCIDENTS.id, "RetryBurst"),
        ),
        Step(
            "@minji (on-call) runs /iris alert-test: eight cases through the real alert path",
            lambda: pg.do_command(INCIDENTS.id, ONCALL.id, "/iris alert-test"),
            _ephemeral_for(INCIDENTS.id, ONCALL, "alert tests passed"),
            timeout=120.0,
        ),
        Step(
            "a note for the day, then the daily report posted to #reports with its files",
            lambda: _report(pg),
            _file_in(REPORTS.id, ".html"),
        ),
        Step(
            "the briefing's reminder arrives in #ops",
            lambda: None,
            _message_in(OPS.id, "Cross-team briefing"),
            timeout=90.0,
        ),
    ]


def _report(pg: SlackClient) -> None:
    pg.do_command(REPORTS.id, YOU.id, '/iris note work "Rehearsed automation v1.2 in the demo: PASS"')
    pg.do_command(REPORTS.id, YOU.id, "/iris report post")


def _checklist(standin: SlackStandin) -> StoredMessage:
    found = [m for m in standin.messages(RELEASE.id) if not m.thread_ts and "automation-patch" in _words(m)]
    return found[-1]


def _click_item_buttons(pg: SlackClient, index: int, items: int) -> None:
    """Click button `index` (0: Sign off, 1: N/A) of the first open item, `items` times."""
    for _ in range(items):
        message = _checklist(pg.standin)
        button, block = _first_open(message, index)
        edits = len(message.edits)
        pg.do_action(RELEASE.id, RELEASE_MANAGER.id, _click(button, block, message.ts))
        pg.standin.wait_for(_edited_since(edits))


def _edited_since(edits: int) -> Callable[[SlackStandin], bool]:
    return lambda standin: len(_checklist(standin).edits) > edits


def _first_open(message: StoredMessage, index: int) -> tuple[dict[str, Any], str]:
    for block in message.blocks or []:
        elements = block.get("elements") or []
        # An open item offers Sign off, N/A and Note; a signed one Undo and Note; the approval Approve, Note.
        if str(block.get("block_id", "")).startswith("act-") and len(elements) == 3:
            return elements[index], str(block["block_id"])
    raise RuntimeError("the checklist has no open item left")


def _click(button: dict[str, Any], block_id: str, message_ts: str) -> Click:
    return Click(str(button["action_id"]), button.get("value"), block_id, message_ts)


def _not_applicable(pg: SlackClient, reason: str) -> None:
    message = _checklist(pg.standin)
    button, block = _first_open(message, 1)
    pg.do_action(RELEASE.id, RELEASE_MANAGER.id, _click(button, block, message.ts))
    view = pg.standin.wait_for(lambda _: pg.open_view(RELEASE_MANAGER.id) or {})
    values = {
        b["block_id"]: {b["element"]["action_id"]: {"type": b["element"]["type"], "value": reason}}
        for b in view.get("blocks", [])
        if b.get("type") == "input"
    }
    pg.do_submit(str(view["id"]), RELEASE_MANAGER.id, values)


def _words(message: StoredMessage) -> str:
    """Everything a reader sees in a message: its text and every string in its blocks."""
    parts = [message.text]

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)
        elif isinstance(node, str):
            parts.append(node)

    collect(message.blocks)
    return "\n".join(parts)


def _ephemeral_for(channel: str, person: Person, words: str) -> Evidence:
    def seen(standin: SlackStandin) -> str | None:
        mine = [m for m in standin.ephemerals(channel) if m.user == person.id and words in _words(m)]
        return f"only @{person.name} sees: {mine[-1].text[:80]!r}" if mine else None

    return seen


def _message_in(channel: str, words: str) -> Evidence:
    def seen(standin: SlackStandin) -> str | None:
        found = [m for m in standin.messages(channel) if words in _words(m)]
        return f"in the channel: {found[-1].text[:80]!r}" if found else None

    return seen


def _reply_in(channel: str, words: str) -> Evidence:
    def seen(standin: SlackStandin) -> str | None:
        parents = {m.ts for m in standin.messages(channel) if words in _words(m) and not m.thread_ts}
        replies = [
            m for m in standin.messages(channel) if m.thread_ts in parents and "resolved" in _words(m).lower()
        ]
        return f"thread reply: {replies[-1].text[:80]!r}" if replies else None

    return seen


def _file_in(channel: str, suffix: str) -> Evidence:
    def seen(standin: SlackStandin) -> str | None:
        found = [
            f for f in standin.files() if f.channel == channel and f.completed and f.filename.endswith(suffix)
        ]
        return f"file {found[-1].filename} ({len(found[-1].data or b'')} bytes)" if found else None

    return seen
