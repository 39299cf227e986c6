"""Roles, audit and dead letters through `/iris status retry`, end to end."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from bot.outbox import Outbox, post_message
from bot.slack_standin.driver import SlackDriver
from bot.slack_standin.server import SlackStandin
from storage import audit, outbox
from storage.clock import utcnow
from storage.db import session_scope
from tests.e2e.conftest import ADMIN, eventually

pytestmark = pytest.mark.e2e  # starts the real `iris` as a process


def _dead_message(engine: Engine, channel: str, text: str) -> int:
    message_id = Outbox(engine, wake=lambda: None).send(post_message(channel, text))
    with session_scope(engine) as session:
        outbox.kill(session, message_id, "not_in_channel")
    return message_id


def _trail(engine: Engine) -> list[tuple[str, str, str, str]]:
    with session_scope(engine) as session:
        return [
            (e.actor, e.action, e.outcome, e.channel_id or "")
            for e in audit.since(session, utcnow().replace(year=2000))
        ]


def _status(engine: Engine, message_id: int) -> str | None:
    with session_scope(engine) as session:
        message = outbox.get(session, message_id)
        return message.status if message else None


# The server writes the database in its own process; what a test sees of Slack says nothing about
# whether those writes have landed yet, so every database check after a reply polls with `eventually`.


def test_a_user_without_the_role_is_refused_by_name_and_audited(
    driver: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    message_id = _dead_message(iris_db, "C0OPS", "stuck")
    answer = driver.command("status retry all", user_id="UNOBODY1")
    [reply] = standin.wait_for_response(answer.response_url_name)
    assert reply["text"].startswith("Only members of the admins role can do that.")
    assert reply["response_type"] == "ephemeral"
    expected = [("UNOBODY1", "outbox.retry", "refused", "C0OPS")]
    assert eventually(lambda: _trail(iris_db) == expected), _trail(iris_db)
    assert _status(iris_db, message_id) == "dead"


def test_an_admin_puts_dead_messages_back_and_they_are_delivered(
    driver: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    message_id = _dead_message(iris_db, "C0ALERTS", "RetryBurst firing")
    status = driver.command("status")
    [report] = standin.wait_for_response(status.response_url_name)
    assert f"#{message_id} post" in json.dumps(report["blocks"]) and "not_in_channel" in json.dumps(report)

    answer = driver.command(f"status retry {message_id}", user_id=ADMIN)
    [reply] = standin.wait_for_response(answer.response_url_name)
    assert reply["text"] == f"Put 1 dead message(s) back in line: #{message_id}."
    standin.wait_for(lambda s: len(s.messages("C0ALERTS")) == 1)
    assert standin.messages("C0ALERTS")[0].text == "RetryBurst firing"
    assert eventually(lambda: _status(iris_db, message_id) == "sent"), _status(iris_db, message_id)
    expected = [(ADMIN, "outbox.retry", "ok", "C0OPS")]
    assert eventually(lambda: _trail(iris_db) == expected), _trail(iris_db)


def test_members_of_an_admin_user_group_hold_the_role(
    driver: SlackDriver, standin: SlackStandin, iris_db: Engine
) -> None:
    standin.set_usergroup("S0ADMINS", ["UGROUPIE"])
    answer = driver.command("status retry all", user_id="UGROUPIE")
    [reply] = standin.wait_for_response(answer.response_url_name)
    assert reply["text"] == "There were no dead messages to retry."
    expected = [("UGROUPIE", "outbox.retry", "ok", "C0OPS")]
    assert eventually(lambda: _trail(iris_db) == expected), _trail(iris_db)


def test_bad_status_arguments_are_answered_in_the_ack(driver: SlackDriver) -> None:
    body = driver.command("status retry soon").json()
    assert body == {
        "response_type": "ephemeral",
        "text": ("Say which dead messages to retry: `/iris status retry 12 15` or `/iris status retry all`."),
    }
