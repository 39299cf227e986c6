"""The stand-in refuses Block Kit the way Slack does: each limit accepted at the limit, refused just over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_standin.server import SlackStandin

Blocks = list[dict[str, Any]]
View = dict[str, Any]


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    # One stand-in for the module: these tests only post, and each looks at its own answer.
    with SlackStandin() as running:
        yield WebClient(token="xoxb-test", base_url=running.api_url, retry_handlers=[])


def plain(n: int) -> dict[str, str]:
    return {"type": "plain_text", "text": "p" * n}


def mrkdwn(n: int) -> dict[str, str]:
    return {"type": "mrkdwn", "text": "m" * n}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(4), "action_id": "go", **fields}


def section(n: int = 4) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(n)}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def text_input(**fields: Any) -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "note", **fields}
    return {"type": "input", "block_id": "note", "label": plain(4), "element": element}


def modal(**fields: Any) -> View:
    return {"type": "modal", "callback_id": "brief", "title": plain(5), "blocks": [section()], **fields}


# name: (limit, blocks of a message sized n)
MESSAGE_LIMITS: dict[str, tuple[int, Callable[[int], Blocks]]] = {
    "blocks per message": (50, lambda n: [section()] * n),
    "section text": (3000, lambda n: [section(n)]),
    "header text": (150, lambda n: [{"type": "header", "text": plain(n)}]),
    "button text": (75, lambda n: [actions(button(text=plain(n)))]),
    "accessory button text": (75, lambda n: [{**section(), "accessory": button(text=plain(n))}]),
    "action_id": (255, lambda n: [actions(button(action_id="a" * n))]),
    "block_id": (255, lambda n: [{"type": "divider", "block_id": "b" * n}]),
    "button value": (2000, lambda n: [actions(button(value="v" * n))]),
    "context element text": (3000, lambda n: [{"type": "context", "elements": [mrkdwn(n)]}]),
    "context elements": (10, lambda n: [{"type": "context", "elements": [mrkdwn(4)] * n}]),
    "actions elements": (25, lambda n: [actions(*(button(action_id=f"go{i}") for i in range(n)))]),
    "section fields": (10, lambda n: [{"type": "section", "fields": [mrkdwn(4)] * n}]),
    "section field text": (2000, lambda n: [{"type": "section", "fields": [mrkdwn(4), mrkdwn(n)]}]),
    "image_url": (3000, lambda n: [{"type": "image", "image_url": "h" * n, "alt_text": "graph"}]),
    "plain_text_input initial_value": (3000, lambda n: [text_input(initial_value="i" * n)]),
}

# name: (limit, view sized n)
VIEW_LIMITS: dict[str, tuple[int, Callable[[int], View]]] = {
    "blocks per view": (100, lambda n: modal(blocks=[section()] * n)),
    "title": (24, lambda n: modal(title=plain(n))),
    "submit": (24, lambda n: modal(submit=plain(n))),
    "close": (24, lambda n: modal(close=plain(n))),
    "callback_id": (255, lambda n: modal(callback_id="c" * n)),
    "private_metadata": (3000, lambda n: modal(private_metadata="m" * n)),
    "plain_text_input initial_value": (3000, lambda n: modal(blocks=[text_input(initial_value="i" * n)])),
}


def post(client: WebClient, blocks: Blocks) -> Any:
    return client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)


def refusal(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("name", MESSAGE_LIMITS)
def test_message_at_the_limit_is_accepted(client: WebClient, name: str) -> None:
    limit, build = MESSAGE_LIMITS[name]

    assert post(client, build(limit))["ok"]


@pytest.mark.parametrize("name", MESSAGE_LIMITS)
def test_message_just_over_the_limit_is_invalid_blocks(client: WebClient, name: str) -> None:
    limit, build = MESSAGE_LIMITS[name]

    error = refusal(lambda: post(client, build(limit + 1)))

    assert (error.response.status_code, error.response["error"]) == (200, "invalid_blocks")
    [problem] = error.response["errors"]
    assert f"{limit} " in problem or f"{limit + 1} " in problem, problem
    assert "[json-pointer:/blocks" in problem


@pytest.mark.parametrize("name", VIEW_LIMITS)
def test_view_at_the_limit_is_accepted(client: WebClient, name: str) -> None:
    limit, build = VIEW_LIMITS[name]

    assert client.views_open(trigger_id="1.2.3", view=build(limit))["ok"]


@pytest.mark.parametrize("name", VIEW_LIMITS)
def test_view_just_over_the_limit_is_invalid_arguments(client: WebClient, name: str) -> None:
    limit, build = VIEW_LIMITS[name]

    error = refusal(lambda: client.views_open(trigger_id="1.2.3", view=build(limit + 1)))

    assert (error.response.status_code, error.response["error"]) == (200, "invalid_arguments")
    [problem] = error.response["response_metadata"]["messages"]
    assert f"{limit} " in problem or f"{limit + 1} " in problem, problem
    assert problem.startswith("[ERROR] ") and "[json-pointer:/view" in problem


def test_invalid_blocks_name_the_offending_block_by_index(client: WebClient) -> None:
    blocks = [section(), {"type": "header", "text": plain(151)}, section(), {"type": "bogus"}]

    error = refusal(lambda: post(client, blocks))

    assert error.response["errors"] == [
        "text attribute cannot exceed 150 characters [json-pointer:/blocks/1]",
        "unsupported block type: 'bogus' [json-pointer:/blocks/3/type]",
    ]
    assert error.response["response_metadata"]["messages"] == [
        f"[ERROR] {e}" for e in error.response["errors"]
    ]


def test_message_text_over_40000_characters_is_msg_too_long(client: WebClient) -> None:
    assert client.chat_postMessage(channel="C1", text="t" * 40000)["ok"]

    error = refusal(lambda: client.chat_postMessage(channel="C1", text="t" * 40001))

    assert error.response["error"] == "msg_too_long"


def test_update_and_ephemeral_are_checked_too(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="run 1/5")["ts"]
    too_long = [section(3001)]

    updated = refusal(lambda: client.chat_update(channel="C1", ts=ts, text="x", blocks=too_long))
    ephemeral = refusal(lambda: client.chat_postEphemeral(channel="C1", user="U7", text="x", blocks=too_long))

    assert updated.response["error"] == ephemeral.response["error"] == "invalid_blocks"


def test_block_ids_must_be_unique_within_a_message(client: WebClient) -> None:
    twice = [{**section(), "block_id": "row"}, {"type": "divider"}, {**section(), "block_id": "row"}]

    error = refusal(lambda: post(client, twice))

    assert error.response["errors"] == ["duplicate block_id: 'row' [json-pointer:/blocks/2/block_id]"]
    assert post(client, [{**section(), "block_id": "row"}, {**section(), "block_id": "row2"}])["ok"]


def test_block_ids_must_be_unique_within_a_view(client: WebClient) -> None:
    view = modal(blocks=[text_input(), text_input()])

    error = refusal(lambda: client.views_open(trigger_id="1.2.3", view=view))

    assert error.response["response_metadata"]["messages"] == [
        "[ERROR] duplicate block_id: 'note' [json-pointer:/view/blocks/1/block_id]"
    ]


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param([{"type": "header", "text": mrkdwn(4)}], id="mrkdwn header"),
        pytest.param([actions(button(text=mrkdwn(4)))], id="mrkdwn button"),
        pytest.param([actions({"type": "slider", "action_id": "s"})], id="unknown element"),
        pytest.param([section(0)], id="empty section text"),
        pytest.param([{"text": mrkdwn(4)}], id="no type"),
        pytest.param([{"type": "section", "text": {"type": "mrkdwn"}}], id="text object without text"),
        pytest.param(["divider"], id="not an object"),
    ],
)
def test_malformed_blocks_are_invalid_blocks(client: WebClient, blocks: Blocks) -> None:
    assert refusal(lambda: post(client, blocks)).response["error"] == "invalid_blocks"


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(modal(type="workflow_step"), id="workflow_step type"),
        pytest.param({**modal(), "title": None}, id="modal without title"),
        pytest.param({"type": "home", "close": plain(5), "blocks": []}, id="home with close"),
        pytest.param(modal(blocks=None), id="no blocks"),
        pytest.param(modal(blocks=[{"type": "bogus"}]), id="unknown block"),
    ],
)
def test_malformed_views_are_invalid_arguments(client: WebClient, view: View) -> None:
    error = refusal(lambda: client.views_open(trigger_id="1.2.3", view=view))

    assert error.response["error"] == "invalid_arguments"


def test_home_tab_with_no_blocks_is_published(client: WebClient) -> None:
    assert client.views_publish(user_id="U7", view={"type": "home", "blocks": []})["ok"]
