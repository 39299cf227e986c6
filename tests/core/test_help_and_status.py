"""Pure pieces of the /iris commands: splitting, escaping, argument parsing and Block Kit rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from bot.health import Health
from bot.i18n import N_, Translator
from bot.status import DeadLetter, StatusReport, format_uptime
from commands.help import answer_unknown, render_help, usage_lines
from commands.kit import (
    Action,
    Command,
    ParseContext,
    escape_mrkdwn,
    no_arguments,
    quote_user_text,
    read,
    split_subcommand,
)
from commands.registry import all_commands
from commands.status import STATUS, render_status

T = Translator("en")
CONTEXT = ParseContext(T, "Asia/Seoul", datetime(2024, 12, 12, tzinfo=UTC))
COMMANDS = all_commands()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("", "")),
        ("   ", ("", "")),
        ("STATUS", ("status", "")),
        ("status  retry   3", ("status", "retry   3")),
        ("\u00a0status\tretry all\n", ("status", "retry all")),
        ('note "unbalanced', ("note", '"unbalanced')),
        ("리허설 시작", ("리허설", "시작")),
    ],
)
def test_split_subcommand_accepts_any_text(text: str, expected: tuple[str, str]) -> None:
    assert split_subcommand(text) == expected


def test_user_text_cannot_mention_link_or_break_out_of_code() -> None:
    assert escape_mrkdwn("<!channel> & <https://evil|x>") == "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;"
    quoted = quote_user_text("`" + "x" * 100)
    assert quoted.startswith("'x") and quoted.endswith("…") and len(quoted) == 60


@pytest.mark.parametrize(
    ("rest", "action", "ids"),
    [
        ("", "", None),
        ("retry all", "retry", None),
        ("retry 3 14", "retry", [3, 14]),
        ("RETRY 7", "retry", [7]),
    ],
)
def test_status_arguments(rest: str, action: str, ids: list[int] | None) -> None:
    chosen, args = read(STATUS, CONTEXT, rest)
    assert (chosen.word, args) == (action, ids)


@pytest.mark.parametrize("rest", ["retry", "retry soon", "retry 3 all", "verbose"])
def test_bad_status_arguments_are_a_sentence(rest: str) -> None:
    with pytest.raises(UserError) as caught:
        read(STATUS, CONTEXT, rest)
    assert caught.value.sentence.endswith(".")


def test_help_covers_every_subcommand_within_block_kit_limits() -> None:
    body = render_help(T, COMMANDS)
    words = list(dict.fromkeys(synopsis.split()[0] for synopsis, _, _ in usage_lines(COMMANDS)))
    assert words == [
        "help",
        "status",
        "rehearse",
        "checklist",
        "brief",
        "alert-test",
        "incidents",
        "note",
        "report",
    ]
    for synopsis, _, _ in usage_lines(COMMANDS):
        assert f"`/iris {escape_mrkdwn(synopsis)}`" in body["text"]
    assert "&lt;id&gt;" in body["text"]  # angle brackets in synopses are not read as Slack links
    assert len(body["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")


def test_unknown_and_planned_subcommands_are_told_apart() -> None:
    planned = Command(
        "deploy", (Action("", "", N_("Deploy."), no_arguments, lambda *_: None),), available=False
    )
    answered = answer_unknown(T, [*COMMANDS, planned], "deploy")["text"]
    assert answered.startswith("`/iris deploy` is not available yet")
    assert answer_unknown(T, COMMANDS, "deploy")["text"].startswith("IRIS does not know `/iris deploy`")
    assert "(not available yet)" in render_help(T, [*COMMANDS, planned])["text"]


def test_status_renders_dead_letters_escaped() -> None:
    report = StatusReport(
        version="0.1.0",
        uptime_seconds=3725,
        backend="postgresql",
        schema_revision="0001_foundation",
        outbox={"pending": 2, "sending": 1, "dead": 1},
        dead_letters=[DeadLetter(9, "C0OPS", "post", "channel_not_found <!here>")],
        stored=[("Outbox messages", 12), ("Audit events", 3)],
        bot_user_id=None,
        timezone="Asia/Seoul",
    )
    text, blocks = render_status(T, report)
    assert text == "IRIS 0.1.0: up 1h 2m, postgresql, outbox 3 waiting and 1 dead."
    rendered = json.dumps(blocks)
    assert "#9 post" in rendered and "&lt;!here&gt;" in rendered and "not verified yet" in rendered


@pytest.mark.parametrize(("seconds", "shown"), [(59, "0m 59s"), (3600, "1h 0m"), (90061, "1d 1h 1m")])
def test_uptime_is_short_and_readable(seconds: float, shown: str) -> None:
    assert format_uptime(seconds) == shown


def test_status_shows_each_probe_with_a_warning_when_it_fails() -> None:
    failing = Health(
        "alertmanager_pull",
        N_("Alertmanager pull"),
        False,
        N_("{url}: unreachable for {ago}: {error}"),
        {"url": "http://am:9093/", "ago": "3.00 s", "error": "refused <!here>"},
        required=False,
    )
    report = StatusReport(
        version="0.1.0",
        uptime_seconds=5,
        backend="sqlite",
        schema_revision="0014_alert_pull",
        outbox={},
        dead_letters=[],
        stored=[],
        bot_user_id="U0BOT",
        timezone="Asia/Seoul",
        health=[failing],
    )
    _, blocks = render_status(T, report)
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields[-1] == (
        "*Alertmanager pull*\n:warning: http://am:9093/: unreachable for 3.00 s: refused &lt;!here&gt;"
    )
    _, blocks = render_status(Translator("ko"), report)
    assert "Alertmanager pull" not in blocks[1]["fields"][-1]["text"]  # said in Korean too
