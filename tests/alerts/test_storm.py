"""Alert groups in a storm, through the real notifier, outbox and poster on SQLite and PostgreSQL:
a new incident goes first, waiting replies, files and edits of a group merge, nothing lost or twice."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from bot.alerts.service import AlertService
from bot.deps import Deps
from bot.runtime import build_deps
from bot.slack.poster import OutboxPoster
from bot.slack_standin.server import SlackStandin
from commands.alerts.publisher import FILE_EVERY, FIRST_FILE_SETTLE
from commands.registry import load_config
from storage import outbox
from storage.clock import as_utc, utcnow
from storage.db import read_scope, session_scope
from storage.outbox import OutboxMessage
from tests.alerts.conftest import ALERTS_YML, thread, top_level
from tests.alerts.test_delivery import drain_notifier
from tests.core.test_poster import Clock

CHANNEL = "C0INC"
# Slack's pace is not what these tests are about (test_delivery's are): a fast channel lets a pass
# drain what is due, so what is checked is the order and what merged.
FAST_CHANNEL = "outbox:\n  per_channel_per_second: 10\n  burst: 20\n"


def make_deps(
    standin: SlackStandin, engine: Engine, workdir: Path, clock: Clock | None = None
) -> tuple[Deps, OutboxPoster]:
    (workdir / "iris.yml").write_text(ALERTS_YML + FAST_CHANNEL)
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": standin.api_url,
            "IRIS_CONFIG": str(workdir / "iris.yml"),
            "IRIS_ALERT_TOKEN": "t",
        }
    )
    return build_deps(config, engine, clock=clock or utcnow)


def notification(
    name: str, firing: Iterable[int], resolved: Iterable[int] = (), severity: str = "warning"
) -> bytes:
    """Alertmanager's webhook for group `name`: alert i is `{name}Alert{i}`, firing or resolved."""
    states = {**{i: "firing" for i in firing}, **{i: "resolved" for i in resolved}}
    alerts = [
        {
            "status": status,
            "labels": {"alertname": f"{name}Alert{i}", "service": name, "severity": severity},
            "annotations": {"summary": f"{name} alert {i}"},
            "startsAt": "2024-12-12T07:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-12-12T07:30:00Z",
            "generatorURL": "",
            "fingerprint": f"{name}-{i:04d}",
        }
        for i, status in sorted(states.items())
    ]
    body = {
        "receiver": name,  # the message's title: its alerts have names of their own
        "status": "firing" if "firing" in states.values() else "resolved",
        "alerts": alerts,
        "groupLabels": {"service": name},
        "commonLabels": {"service": name, "severity": severity},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "version": "4",
        "groupKey": f'{{}}:{{service="{name}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


def tell(deps: Deps, *bodies: bytes) -> None:
    """Alertmanager notifies; the notifier queues what Slack must show (the poster sends nothing yet)."""
    for body in bodies:
        deps.service(AlertService).receive("alertmanager", body)
        drain_notifier(deps)


def deliver(poster: OutboxPoster) -> None:
    while poster.drain_once():
        pass


def waiting(engine: Engine, kind: str) -> list[OutboxMessage]:
    with read_scope(engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.status == "pending")
        return list(session.exec(query).all())


def replies_of(standin: SlackStandin, name: str) -> list[str]:
    [post] = [m for m in top_level(standin, CHANNEL) if name in m.text]
    return [m.text for m in thread(standin, CHANNEL, post.ts)]


def test_waiting_replies_of_a_group_merge_into_one_that_tells_every_change(
    standin: SlackStandin, engine: Engine, tmp_path: Path
) -> None:
    deps, poster = make_deps(standin, engine, tmp_path)
    try:
        tell(deps, notification("Pay", [0]))
        deliver(poster)
        tell(  # Slack is busy: three notifications while the first reply waits
            deps,
            notification("Pay", [0, 1]),
            notification("Pay", [0, 1, 2]),
            notification("Pay", [1, 2], resolved=[0]),
        )
        assert len(waiting(engine, "post")) == 1 and len(waiting(engine, "update")) == 1
        deliver(poster)
        [reply] = replies_of(standin, "Pay")
        assert reply.splitlines() == [
            ":heavy_plus_sign: *PayAlert1* joined the group, firing",
            ":heavy_plus_sign: *PayAlert2* joined the group, firing",
            ":white_check_mark: *PayAlert0* resolved",
            "1 of 3 resolved",
        ]
        [edit] = standin.calls("chat.update")  # the edits merged too: the newest state, once
        assert "2 firing, 1 resolved" in edit.params["text"]
    finally:
        poster.close()
        deps.slack.close()


def test_a_new_critical_group_goes_ahead_of_the_chatter_waiting_in_its_channel(
    standin: SlackStandin, engine: Engine, tmp_path: Path
) -> None:
    deps, poster = make_deps(standin, engine, tmp_path)
    try:
        names = [f"Churn{n}" for n in range(3)]
        tell(deps, *(notification(name, range(12)) for name in names))
        deliver(poster)
        before = len(standin.calls())
        tell(deps, *(notification(name, range(14), resolved=[0]) for name in names))
        tell(deps, notification("Fire", [0], severity="critical"))
        deliver(poster)
        calls = [c for c in standin.calls()[before:] if c.method in ("chat.postMessage", "chat.update")]
        assert "Fire" in calls[0].params["text"] and "thread_ts" not in calls[0].params
        for name in names:  # each group: its edit, then its reply, then its file
            mine = [c for c in calls if name in json.dumps(c.params)]
            assert [c.method for c in mine] == ["chat.update", "chat.postMessage"]
        held = waiting(engine, "upload")  # each group's new list, once, waiting its turn (FILE_EVERY)
        assert sorted(json.loads(m.payload)["content"].count("\n") for m in held) == [15, 15, 15]
    finally:
        poster.close()
        deps.slack.close()


def test_waiting_files_of_a_group_collapse_to_the_newest_and_the_next_waits_its_turn(
    standin: SlackStandin, engine: Engine, tmp_path: Path
) -> None:
    clock = Clock()
    deps, poster = make_deps(standin, engine, tmp_path, clock)
    try:
        tell(
            deps,
            notification("Big", range(12)),
            notification("Big", range(13)),
            notification("Big", range(15)),
        )
        [upload] = waiting(engine, "upload")  # three lists asked for, the newest waits
        deliver(poster)
        assert not standin.files()  # the first list waits a moment for the rest of the group
        clock.advance(FIRST_FILE_SETTLE.total_seconds())
        deliver(poster)
        [listing] = standin.files()
        assert listing.data is not None and listing.data.count(b"\n") == 16  # header and 15 alerts
        tell(deps, notification("Big", range(16)))
        [held] = waiting(engine, "upload")
        with read_scope(engine) as session:
            sent = outbox.get(session, upload.id)  # type: ignore[arg-type]
            assert sent is not None and sent.sent_at is not None
        assert as_utc(held.next_attempt_at) == as_utc(sent.sent_at) + FILE_EVERY
        tell(deps, notification("Big", range(15), resolved=[15]))  # another change while it waits
        deliver(poster)
        assert len(standin.files()) == 1  # nothing more was sent while the file waits its turn
        [held] = waiting(engine, "upload")
        assert "resolved\t2024-12-12T07:00:00+00:00\tBig-0015" in json.loads(held.payload)["content"]
    finally:
        poster.close()
        deps.slack.close()


def test_a_restart_in_a_coalesced_backlog_loses_nothing_and_sends_nothing_twice(
    standin: SlackStandin, engine: Engine, tmp_path: Path
) -> None:
    deps, poster = make_deps(standin, engine, tmp_path)
    tell(deps, *(notification(f"Grp{n}", [0]) for n in range(3)))
    deliver(poster)
    tell(deps, *(notification(f"Grp{n}", [0, 1]) for n in range(3)))
    past = utcnow() - timedelta(minutes=5)
    with session_scope(engine) as session:  # a poster took the channel's head, then died before Slack saw it
        [head] = outbox.lane_heads(session, utcnow())
        assert outbox.claim(session, [head.id or 0], "dead-worker", past, timedelta(0)) == [head.id]
    poster.close()
    deps.slack.close()
    deps, poster = make_deps(standin, engine, tmp_path)  # the next process
    try:
        tell(deps, *(notification(f"Grp{n}", [1, 2], resolved=[0]) for n in range(3)))
        deliver(poster)
        for n in range(3):
            told = "\n".join(replies_of(standin, f"Grp{n}")).splitlines()
            expected = [
                f":heavy_plus_sign: *Grp{n}Alert1* joined the group, firing",
                f":heavy_plus_sign: *Grp{n}Alert2* joined the group, firing",
                f":white_check_mark: *Grp{n}Alert0* resolved",
            ]
            found = [line for line in told if line in expected]
            assert sorted(found) == sorted(expected) and found[0] == expected[0]  # each once, in order
        assert len(top_level(standin, CHANNEL)) == 3
        for message in top_level(standin, CHANNEL):  # each shows its group as it stands
            assert message.text.endswith("2 firing, 1 resolved"), message.text
        with read_scope(engine) as session:
            assert outbox.depth(session) == 0
    finally:
        poster.close()
        deps.slack.close()
