"""The stand-in paces like Slack when asked: posts per channel, chat.update per workspace, 429s."""

from __future__ import annotations

import httpx

from bot.slack_standin.pacing import Limit, SlackLimits, SlackPacing
from bot.slack_standin.server import SlackStandin


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_channel_takes_its_burst_then_one_post_a_second() -> None:
    clock = Clock()
    pacing = SlackPacing(SlackLimits(channel=Limit(1.0, 3)), clock)
    post = {"channel": "C1"}
    assert [pacing.retry_after("chat.postMessage", post) for _ in range(4)] == [None, None, None, 1]
    assert pacing.retry_after("chat.postMessage", {"channel": "C2"}) is None  # another channel's own
    clock.now += 1.0
    assert pacing.retry_after("chat.postMessage", post) is None
    assert pacing.retry_after("files.completeUploadExternal", {"channel_id": "C1"}) == 1  # files too


def test_edits_share_the_workspaces_budget_of_about_50_a_minute() -> None:
    clock = Clock()
    pacing = SlackPacing(SlackLimits(updates=Limit(50 / 60, 10)), clock)
    answers = [pacing.retry_after("chat.update", {"channel": f"C{n}"}) for n in range(11)]
    assert answers[:10] == [None] * 10 and answers[10] == 2  # 1.2 s for the next token, rounded up
    clock.now += 1.2
    assert pacing.retry_after("chat.update", {"channel": "C1"}) is None
    assert pacing.retry_after("chat.postEphemeral", {"channel": "C1"}) is None  # not paced here


def test_the_pacing_standin_answers_429_with_retry_after_and_keeps_nothing_refused() -> None:
    with SlackStandin(pace_like_slack=SlackLimits(channel=Limit(1.0, 2))) as standin:
        answers = [
            httpx.post(
                standin.api_url + "chat.postMessage",
                json={"channel": "C0PACE", "text": f"n{n}"},
                headers={"Authorization": "Bearer xoxb-test"},
            )
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["Retry-After"] == "1"
        assert [m.text for m in standin.messages("C0PACE")] == ["n0", "n1"]


def test_the_standin_does_not_pace_unless_asked(standin: SlackStandin) -> None:
    answers = [
        httpx.post(
            standin.api_url + "chat.postMessage",
            json={"channel": "C0FREE", "text": "x"},
            headers={"Authorization": "Bearer xoxb-test"},
        ).status_code
        for _ in range(10)
    ]
    assert answers == [200] * 10
