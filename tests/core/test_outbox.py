"""Queueing for Slack: a message commits with the change that made it, and its commit wakes the poster."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.outbox import Outbox, post_message, update_message
from storage import outbox as repo
from storage.db import read_scope, session_scope


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_the_commit_that_queued_messages_wakes_the_poster_once(engine: Engine) -> None:
    wakes = Wakes()
    outbox = Outbox(engine, wakes)
    with session_scope(engine) as session:
        outbox.send_in(session, post_message("C1", "one"))
        outbox.send_in(session, post_message("C1", "two"))
        assert wakes.count == 0  # not before the rows are visible to the poster
    assert wakes.count == 1
    with session_scope(engine) as session:
        outbox.send_in(session, post_message("C1", "three"))
    assert wakes.count == 2


def test_a_rolled_back_change_queues_nothing_and_wakes_nobody(engine: Engine) -> None:
    wakes = Wakes()
    outbox = Outbox(engine, wakes)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        outbox.send_in(session, post_message("C1", "never"))
        raise RuntimeError("the change failed")
    assert wakes.count == 0
    with read_scope(engine) as session:
        assert repo.count_by_status(session) == {}


def test_an_edit_still_waiting_takes_the_newer_content_instead_of_a_second_call(engine: Engine) -> None:
    outbox = Outbox(engine, Wakes())
    posted = outbox.send(post_message("C1", "v1"))
    with session_scope(engine) as session:
        outbox.edit_in(session, update_message("C1", posted, "v2"))
    with session_scope(engine) as session:
        outbox.edit_in(session, update_message("C1", posted, "v3"))
    with read_scope(engine) as session:
        counts = repo.count_by_status(session)
        edit = repo.get(session, posted + 1)
    assert counts == {"pending": 2} and edit is not None and '"v3"' in edit.payload
