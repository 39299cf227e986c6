"""What a Slack client shows of the stand-in (the demo's page): response_url posts and acks to their
reader, replaced or deleted originals, who opened a view, and where a shared file appears."""

from __future__ import annotations

import httpx
from slack_sdk import WebClient

from bot.slack_standin.model import Reader
from bot.slack_standin.server import SlackStandin


def test_a_bound_response_url_shows_ephemeral_posts_to_their_reader_only(standin: SlackStandin) -> None:
    standin.bind_response_url("commands-1", Reader("C1", "U1"))
    httpx.post(standin.response_url("commands-1"), json={"text": "only you", "response_type": "ephemeral"})

    [shown] = standin.ephemerals("C1")
    assert (shown.user, shown.text, shown.thread_ts) == ("U1", "only you", None)
    assert standin.messages("C1") == []


def test_in_channel_replace_and_delete_act_on_the_channel_and_the_clicked_message(
    standin: SlackStandin, client: WebClient
) -> None:
    clicked = client.chat_postMessage(channel="C1", text="original")["ts"]
    standin.bind_response_url("actions-1", Reader("C1", "U1", message_ts=clicked))
    standin.bind_response_url("actions-2", Reader("C1", "U1", message_ts=clicked))
    standin.bind_response_url("commands-3", Reader("C1", "U2"))

    httpx.post(standin.response_url("actions-1"), json={"text": "replaced", "replace_original": True})
    assert [(m.text, len(m.edits)) for m in standin.messages("C1")] == [("replaced", 1)]
    httpx.post(standin.response_url("commands-3"), json={"text": "for all", "response_type": "in_channel"})
    assert [m.text for m in standin.messages("C1")] == ["replaced", "for all"]
    httpx.post(standin.response_url("actions-2"), json={"text": "", "delete_original": True})
    assert [m.text for m in standin.messages("C1")] == ["for all"]
    assert standin.ephemerals() == []


def test_an_unbound_response_url_is_only_recorded(standin: SlackStandin) -> None:
    httpx.post(standin.response_url("commands-9"), json={"text": "to a test"})

    assert standin.responses("commands-9") == [{"text": "to a test"}]
    assert standin.ephemerals() == [] and standin.messages() == []


def test_an_ack_body_is_shown_and_wakes_listeners(standin: SlackStandin) -> None:
    woken: list[int] = []
    standin.on_change(lambda: woken.append(1))
    standin.show_ack(Reader("C1", "U1", thread_ts="1.0"), {"text": "help", "blocks": [{"type": "divider"}]})

    [shown] = standin.ephemerals("C1")
    assert (shown.user, shown.text, shown.blocks, shown.thread_ts) == (
        "U1",
        "help",
        [{"type": "divider"}],
        "1.0",
    )
    assert woken and standin.calls("ack")


def test_views_are_found_by_the_trigger_that_opened_them(standin: SlackStandin, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "N/A"}, "blocks": []}
    first = client.views_open(trigger_id="t-1", view=view)["view"]["id"]
    client.views_open(trigger_id="t-2", view=view)
    client.views_update(view_id=first, view=view | {"title": {"type": "plain_text", "text": "Changed"}})

    [mine] = standin.views_opened_by({"t-1"})
    assert mine["id"] == first and mine["title"]["text"] == "Changed"
    assert standin.views_opened_by({"t-3"}) == []


def test_a_shared_file_takes_its_place_among_the_channel_s_messages(
    standin: SlackStandin, client: WebClient
) -> None:
    before = client.chat_postMessage(channel="C1", text="before")["ts"]
    client.files_upload_v2(channel="C1", content=b"\x89PNG", filename="timeline.png", title="Timeline")
    after = client.chat_postMessage(channel="C1", text="after")["ts"]

    [file] = standin.files()
    assert file.shared_ts is not None and float(before) < float(file.shared_ts) < float(after)
    assert standin.file(file.id) == file and standin.file("F0NONE") is None


def test_replace_and_delete_reach_an_ephemeral_original_and_a_missing_one_shows_nothing(
    standin: SlackStandin,
) -> None:
    standin.show_ack(Reader("C1", "U1"), {"text": "preview with buttons"})
    [preview] = standin.ephemerals("C1")
    standin.bind_response_url("actions-1", Reader("C1", "U1", message_ts=preview.ts))
    standin.bind_response_url("actions-2", Reader("C1", "U1", message_ts=preview.ts))
    standin.bind_response_url("actions-3", Reader("C1", "U1", message_ts="1.000100"))

    httpx.post(standin.response_url("actions-1"), json={"text": "posted", "replace_original": True})
    assert [m.text for m in standin.ephemerals("C1")] == ["posted"]
    httpx.post(standin.response_url("actions-2"), json={"delete_original": True})
    httpx.post(standin.response_url("actions-3"), json={"delete_original": True})
    assert standin.ephemerals("C1") == [] and standin.messages("C1") == []


def test_a_bound_response_url_refuses_what_slack_would_not_show(standin: SlackStandin) -> None:
    standin.bind_response_url("commands-1", Reader("C1", "U1"))
    too_many = [{"type": "divider"}] * 51

    refused = httpx.post(standin.response_url("commands-1"), json={"text": "x", "blocks": too_many})
    assert (refused.status_code, refused.text) == (400, "invalid_blocks")
    assert standin.ephemerals() == [] and standin.responses("commands-1") == []
