"""`/iris rehearse` end to end: through `iris serve` and the Slack stand-in, with real targets."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.demo.processes import free_port
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from tests.e2e.conftest import (
    ADMIN,
    IrisServer,
    driving,
    eventually,
    running,
    server_env,
)
from tests.rehearsals.test_runner import HANGS, _alive, write_scenario

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


@pytest.fixture
def rehearsing_iris(standin: SlackStandin, tmp_path: Path, upstream: str) -> Iterator[IrisServer]:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    write_scenario(scenarios, upstream, "tenacity_retry.py", runs=2, honor_retry_after=False)
    (tmp_path / "hangs.py").write_text(HANGS)
    hanging = write_scenario(scenarios, upstream, str(tmp_path / "hangs.py"), runs=3, timeout="5m")
    pids = f'RUN: "{{run}}", PIDS: "{tmp_path / "pids"}"'
    hanging.write_text(hanging.read_text().replace('RUN: "{run}"', pids))
    env = server_env(standin, tmp_path)
    Path(env["IRIS_CONFIG"]).write_text(f"roles:\n  admins: [{ADMIN}]\nfolders:\n  scenarios: scenarios\n")
    yield from running(env, tmp_path)


@pytest.fixture
def slack(rehearsing_iris: IrisServer, standin: SlackStandin) -> Iterator[SlackDriver]:
    yield from driving(rehearsing_iris, standin)


def _reply(slack: SlackDriver, standin: SlackStandin, text: str, user: str = ADMIN) -> str:
    return slack.answer_text(slack.command(text, user_id=user))


def test_list_shows_the_scenarios_of_the_configured_folder(slack: SlackDriver, standin: SlackStandin) -> None:
    listing = _reply(slack, standin, "rehearse list")
    assert "*tenacity-retry*" in listing and "*hangs*" in listing


def test_a_full_rehearsal_reports_live_and_ends_with_chart_and_journal(
    slack: SlackDriver, standin: SlackStandin
) -> None:
    started = _reply(slack, standin, "rehearse tenacity-retry")
    assert started.startswith("Started rehearsal `r-") and "(2 runs)" in started
    parent = standin.wait_for(lambda s: s.messages("C0OPS")[0] if s.messages("C0OPS") else None)
    assert "tenacity-retry" in parent.text
    standin.wait_for(lambda s: len([f for f in s.files() if f.completed]) == 2, timeout=60)
    [top] = [m for m in standin.messages("C0OPS") if m.thread_ts is None]
    replies = [m for m in standin.messages("C0OPS") if m.thread_ts == top.ts]
    assert [r.text.splitlines()[0] for r in replies] == ["*Run 1*: recovered", "*Run 2*: recovered"]
    assert "verdict *pass*" in top.text
    progress_edit, final_edit = top.edits  # edited live after run 1, then once more with the summary
    assert "▰▱ 1/2" in progress_edit["text"] and "verdict *pass*" in final_edit["text"]
    assert "rehearse_abort" not in json.dumps(top.blocks)  # the button is gone once it is over
    files = {f.filename: f for f in standin.files() if f.completed}
    assert len(standin.files()) == 2, standin.files()
    timeline = next(f for name, f in files.items() if name.endswith("-timeline.png"))
    journal = next(f for name, f in files.items() if name.endswith("-journal.json"))
    assert timeline.data is not None and timeline.data.startswith(b"\x89PNG")
    assert timeline.thread_ts == top.ts
    assert journal.data is not None and json.loads(journal.data)["verdict"] == "pass"


def test_starting_and_aborting_need_the_release_managers_role(
    slack: SlackDriver, standin: SlackStandin
) -> None:
    refused = _reply(slack, standin, "rehearse tenacity-retry", user="UNOBODY1")
    assert refused.startswith("Only members of the release_managers role can do that.")
    click = slack.block_action("rehearse_abort", "r-00000000", user_id="UNOBODY1")
    assert click.status_code == 200
    [answer] = standin.wait_for_response(click.response_url_name)
    assert answer["text"].startswith("Only members of the release_managers role")


def test_abort_by_button_stops_the_target_and_a_second_start_is_refused(
    slack: SlackDriver, standin: SlackStandin, tmp_path: Path
) -> None:
    started = _reply(slack, standin, "rehearse hangs")
    rehearsal_id = started.split("`")[1]
    assert eventually(lambda: (tmp_path / "pids").exists() and (tmp_path / "pids").read_text().strip())
    again = _reply(slack, standin, "rehearse hangs")
    assert again.startswith(f"*hangs* is already being rehearsed, id `{rehearsal_id}`")
    click = slack.block_action("rehearse_abort", rehearsal_id, user_id=ADMIN)
    [answer] = standin.wait_for_response(click.response_url_name)
    assert answer["text"] == f"Aborting rehearsal `{rehearsal_id}`: its target is being stopped."
    standin.wait_for(
        lambda s: any("aborted" in m.text for m in s.messages("C0OPS") if m.thread_ts is None), timeout=30
    )
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert eventually(lambda: not any(_alive(pid) for pid in pids))


def test_a_crash_mid_rehearsal_leaves_no_process_and_reports_interrupted(
    rehearsing_iris: IrisServer, slack: SlackDriver, standin: SlackStandin, tmp_path: Path
) -> None:
    started = _reply(slack, standin, "rehearse hangs")
    rehearsal_id = started.split("`")[1]
    assert eventually(lambda: (tmp_path / "pids").exists() and (tmp_path / "pids").read_text().strip())
    assert rehearsing_iris.process is not None
    rehearsing_iris.process.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs
    rehearsing_iris.process.wait()
    rehearsing_iris.start()
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert eventually(lambda: not any(_alive(pid) for pid in pids))
    # When the crash came while the killed process held a claim on the rehearsal message's lane, the
    # new one waits for that claim's 60 s lease (PosterSettings.lease) before it may edit the message.
    standin.wait_for(
        lambda s: any(f"`{rehearsal_id}`" in m.text and "interrupted" in m.text for m in s.messages("C0OPS")),
        timeout=75,
    )
    status = _reply(slack, standin, f"rehearse status {rehearsal_id}")
    assert "interrupted" in status


def test_dry_run_shows_the_plan_and_runs_nothing(slack: SlackDriver, standin: SlackStandin) -> None:
    plan = _reply(slack, standin, "rehearse tenacity-retry dry-run", user="UNOBODY1")
    assert plan.startswith("*Dry run* of *tenacity-retry*: nothing is started.")
    assert "gap before attempt 2: 0.14 s–0.26 s" in plan
    assert standin.messages("C0OPS") == []


@pytest.fixture
def down() -> str:
    return f"127.0.0.1:{free_port()}"  # an upstream nothing listens on


@pytest.fixture
def slack_with_upstream_down(standin: SlackStandin, tmp_path: Path, down: str) -> Iterator[SlackDriver]:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    write_scenario(scenarios, f"http://{down}", "tenacity_retry.py", runs=1)
    env = server_env(standin, tmp_path)
    Path(env["IRIS_CONFIG"]).write_text(f"roles:\n  admins: [{ADMIN}]\nfolders:\n  scenarios: scenarios\n")
    for server in running(env, tmp_path):
        yield from driving(server, standin)


def test_a_rehearsal_whose_upstream_is_down_says_so_in_slack(
    slack_with_upstream_down: SlackDriver, standin: SlackStandin, down: str
) -> None:
    started = _reply(slack_with_upstream_down, standin, "rehearse tenacity-retry")
    assert started.startswith("Started rehearsal")
    top = standin.wait_for(
        lambda s: next((m for m in s.messages("C0OPS") if "verdict *fail*" in m.text), None), timeout=60
    )
    shown = json.dumps(top.blocks, ensure_ascii=False)
    assert f"upstream unreachable: cannot connect to {down}: Connection refused" in shown
    assert f"check that http://{down} is running" in shown
