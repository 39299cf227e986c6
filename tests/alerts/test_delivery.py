"""Alert messages through the real outbox poster and Slack SDK, in process: pace, 429s, restarts."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.alerts.notifier import AlertNotifier
from bot.alerts.service import AlertService
from bot.deps import Deps
from bot.runtime import build_deps
from bot.slack.poster import OutboxPoster
from bot.slack_standin.server import SlackStandin
from commands.registry import load_config
from tests.alerts.conftest import ALERTS_YML, fixture, top_level

BURST = 50


def make_deps(standin: SlackStandin, engine: Engine, workdir: Path) -> tuple[Deps, OutboxPoster]:
    (workdir / "iris.yml").write_text(ALERTS_YML)
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": standin.api_url,
            "IRIS_CONFIG": str(workdir / "iris.yml"),
            "IRIS_ALERT_TOKEN": "t",
        }
    )
    return build_deps(config, engine)


@pytest.fixture
def iris_parts(
    standin: SlackStandin, sqlite_engine: Engine, tmp_path: Path
) -> Iterator[tuple[Deps, OutboxPoster]]:
    deps, poster = make_deps(standin, sqlite_engine, tmp_path)
    yield deps, poster
    poster.close()
    deps.slack.close()


def group_payload(n: int) -> bytes:
    data = fixture("alertmanager_firing.json")
    data["groupKey"] = f'{{}}:{{alertname="Burst{n:02d}"}}'
    data["groupLabels"] = {"alertname": f"Burst{n:02d}"}
    data["commonLabels"]["alertname"] = data["alerts"][0]["labels"]["alertname"] = f"Burst{n:02d}"
    data["alerts"][0]["fingerprint"] = f"{n:016x}"
    return json.dumps(data).encode()


def drain_notifier(deps: Deps) -> None:
    notifier = deps.service(AlertNotifier)
    while notifier.notify_once():
        pass


@pytest.mark.slow  # 50 posts at Slack's pace of one a second
def test_50_new_groups_with_every_second_post_refused_arrive_complete_in_order_at_slacks_pace(
    iris_parts: tuple[Deps, OutboxPoster], standin: SlackStandin
) -> None:
    deps, poster = iris_parts
    standin.fail_every("chat.postMessage", 2, status=429, retry_after=1)
    for n in range(BURST):
        deps.service(AlertService).receive("alertmanager", group_payload(n))
    drain_notifier(deps)
    stop = threading.Event()
    runner = threading.Thread(target=poster.run, args=(stop,), daemon=True)
    runner.start()
    try:
        standin.wait_for(lambda s: len(top_level(s, "C0INC")) == BURST, timeout=240)
    finally:
        stop.set()
        poster.wake()
        runner.join(timeout=10)
    names = [m.text.split(": ", 1)[1].split(" ")[0] for m in top_level(standin, "C0INC")]
    assert names == [f"Burst{n:02d}" for n in range(BURST)]  # complete, in order, none twice
    calls = standin.calls("chat.postMessage")
    assert [c.status for c in calls].count(429) >= BURST - 1
    _assert_paced(calls)


def _assert_paced(calls: list) -> None:  # type: ignore[type-arg]
    """After each 429 the next post waited out Retry-After; never more than burst+rate·t in any window."""
    for refused, following in itertools.pairwise(calls):
        if refused.status == 429:
            assert following.received_at - refused.received_at >= 0.95
    accepted = [c.received_at for c in calls if c.status == 200]
    for i, start in enumerate(accepted):
        in_window = [t for t in accepted[i:] if t - start < 3.0]
        assert len(in_window) <= 3 + 3  # burst 3, then 1 per second over the 3 s window


def test_a_group_stored_before_a_crash_is_posted_by_the_next_process(
    standin: SlackStandin, sqlite_engine: Engine, tmp_path: Path
) -> None:
    before, poster = make_deps(standin, sqlite_engine, tmp_path)
    before.service(AlertService).receive("grafana", json.dumps(fixture("grafana_firing.json")).encode())
    poster.close()  # the process dies here: stored and answered 200, nothing queued for Slack yet
    after, poster = make_deps(standin, sqlite_engine, tmp_path)
    drain_notifier(after)
    while poster.drain_once():
        pass
    [message] = top_level(standin, "C0INC")
    assert "High memory usage" in message.text
    drain_notifier(after)  # nothing more to say: no second post, no edit
    assert poster.drain_once() == 0
    poster.close()
