"""The Slack stand-in answers slack_sdk the way Slack does, records everything and fails on cue."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import TypeVar

import aiohttp
import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack_standin.server import SlackStandin

T = TypeVar("T")
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Rehearsal* 3/5"}}


def api_error(call: object) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_post_message_is_recorded_and_stored(standin: SlackStandin, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C1", text="hello", blocks=[SECTION])

    assert response["ok"] and response["channel"] == "C1"
    assert response["message"]["blocks"] == [SECTION]
    [call] = standin.calls("chat.postMessage")
    assert call.params["channel"] == "C1" and call.params["text"] == "hello"
    assert call.headers["Authorization"] == "Bearer xoxb-test"
    [stored] = standin.messages("C1")
    assert (stored.ts, stored.text, stored.blocks) == (response["ts"], "hello", [SECTION])


def test_timestamps_strictly_increase(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(n))["ts"] for n in range(5)]

    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_reply_with_thread_ts_is_recorded_as_reply(standin: SlackStandin, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="alert group")["ts"]
    client.chat_postMessage(channel="C1", text="resolved", thread_ts=parent)

    replies = [m for m in standin.messages("C1") if m.thread_ts == parent]
    assert [m.text for m in replies] == ["resolved"]
    assert standin.message_payload("C1")["ts"] == parent  # type: ignore[index]


def test_update_edits_the_stored_message_and_keeps_history(standin: SlackStandin, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="run 1/5")["ts"]
    client.chat_update(channel="C1", ts=ts, text="run 2/5")
    client.chat_update(channel="C1", ts=ts, text="run 3/5")

    [stored] = standin.messages("C1")
    assert stored.text == "run 3/5"
    assert [edit["text"] for edit in stored.edits] == ["run 2/5", "run 3/5"]


def test_update_of_unknown_ts_is_message_not_found(client: WebClient) -> None:
    error = api_error(lambda: client.chat_update(channel="C1", ts="1.000001", text="x"))

    assert error.response["error"] == "message_not_found"


def test_delete_removes_the_message(standin: SlackStandin, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="oops")["ts"]
    client.chat_delete(channel="C1", ts=ts)

    assert standin.messages("C1") == []


def test_ephemeral_returns_message_ts_and_is_kept_apart(standin: SlackStandin, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="C1", user="U7", text="usage: /iris help")

    assert response["message_ts"]
    assert standin.messages() == []
    [ephemeral] = standin.ephemerals("C1")
    assert (ephemeral.user, ephemeral.text) == ("U7", "usage: /iris help")


def test_too_many_blocks_is_invalid_blocks(client: WebClient) -> None:
    error = api_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[SECTION] * 51))

    assert error.response["error"] == "invalid_blocks"


def test_rate_limit_answers_429_with_retry_after(standin: SlackStandin, client: WebClient) -> None:
    standin.fail_next("chat.postMessage", status=429, retry_after=1)

    error = api_error(lambda: client.chat_postMessage(channel="C1", text="x"))

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert error.response["error"] == "ratelimited"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.status for c in standin.calls("chat.postMessage")] == [429, 200]


def test_server_error_answers_that_status(standin: SlackStandin, client: WebClient) -> None:
    standin.fail_next("chat.postMessage", status=500, times=2)

    statuses = [api_error(lambda: client.chat_postMessage(channel="C1", text="x")).response.status_code]
    statuses.append(api_error(lambda: client.chat_postMessage(channel="C1", text="x")).response.status_code)

    assert statuses == [500, 500]
    assert standin.messages() == []
    assert len(standin.calls("chat.postMessage")) == 2


def test_scripted_error_answers_ok_false_with_http_200(standin: SlackStandin, client: WebClient) -> None:
    standin.fail_next("chat.postMessage", error="channel_not_found")

    error = api_error(lambda: client.chat_postMessage(channel="C1", text="x"))

    assert (error.response.status_code, error.response["error"]) == (200, "channel_not_found")


def test_missing_and_foreign_channels_are_refused(standin: SlackStandin, client: WebClient) -> None:
    standin.set_missing_channel("C404")
    standin.set_not_in_channel("C403")

    missing = api_error(lambda: client.chat_postMessage(channel="C404", text="x"))
    foreign = api_error(lambda: client.chat_postMessage(channel="C403", text="x"))

    assert (missing.response["error"], foreign.response["error"]) == ("channel_not_found", "not_in_channel")
    assert client.conversations_info(channel="C403")["channel"]["is_member"] is False


def test_invalid_token_is_invalid_auth(standin: SlackStandin) -> None:
    stranger = WebClient(token="xoxb-wrong", base_url=standin.api_url, retry_handlers=[])

    error = api_error(lambda: stranger.chat_postMessage(channel="C1", text="x"))

    assert error.response["error"] == "invalid_auth"
    assert standin.messages() == []


def test_unknown_method_is_unknown_method(client: WebClient) -> None:
    error = api_error(lambda: client.api_call("chat.teleport"))

    assert error.response["error"] == "unknown_method"


def test_auth_test_describes_the_bot(client: WebClient) -> None:
    response = client.auth_test()

    assert (response["team_id"], response["user_id"], response["bot_id"]) == ("T0001", "U0BOT", "B0BOT")


def test_users_and_usergroups_are_configurable(standin: SlackStandin, client: WebClient) -> None:
    standin.set_usergroup("S0OPS", ["U1", "U2"])
    standin.set_user("U2", name="minji", tz="Europe/London")

    assert client.usergroups_users_list(usergroup="S0OPS")["users"] == ["U1", "U2"]
    seoul = client.users_info(user="U1")["user"]
    assert (seoul["tz"], seoul["tz_offset"]) == ("Asia/Seoul", 32400)
    assert client.users_info(user="U2")["user"]["name"] == "minji"


def test_views_open_and_update_return_a_view_id(standin: SlackStandin, client: WebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "brief",
        "title": {"type": "plain_text", "text": "B"},
        "blocks": [],
    }

    opened = client.views_open(trigger_id="1.2.3", view=view)["view"]
    updated = client.views_update(view_id=opened["id"], view={**view, "private_metadata": "42"})["view"]

    assert opened["id"].startswith("V") and updated["id"] == opened["id"]
    assert [v["private_metadata"] for v in standin.views()] == ["42"]


def test_files_upload_v2_stores_the_bytes(standin: SlackStandin, client: WebClient) -> None:
    response = client.files_upload_v2(content=b"# Daily", filename="x.md", channel="C1", title="Report")

    [stored] = standin.files()
    assert stored.data == b"# Daily"
    assert (stored.filename, stored.title, stored.channel, stored.completed) == ("x.md", "Report", "C1", True)
    assert response["file"]["id"] == stored.id
    assert [c.method for c in standin.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_completing_a_file_never_uploaded_is_file_not_found(client: WebClient) -> None:
    file_id = client.files_getUploadURLExternal(filename="x.md", length=3)["file_id"]

    error = api_error(lambda: client.files_completeUploadExternal(files=[{"id": file_id, "title": "x"}]))

    assert error.response["error"] == "file_not_found"


def test_response_url_records_each_post(standin: SlackStandin) -> None:
    webhook = WebhookClient(standin.response_url("cmd1"))

    first = webhook.send(text="Rehearsal queued", response_type="ephemeral")
    webhook.send(text="Rehearsal started", replace_original=True)

    assert (first.status_code, first.body) == (200, "ok")
    assert [body["text"] for body in standin.responses("cmd1")] == ["Rehearsal queued", "Rehearsal started"]
    assert standin.responses("other") == []


def test_response_url_fails_on_cue_and_after_five_uses(standin: SlackStandin) -> None:
    webhook = WebhookClient(standin.response_url("cmd2"))
    standin.fail_response_url("cmd2", 500)

    statuses = [webhook.send(text=str(n)).status_code for n in range(7)]

    assert statuses == [500, 200, 200, 200, 200, 200, 404]
    assert len(standin.responses("cmd2")) == 5
    assert len(standin.calls("response_url")) == 7


def test_params_arrive_from_json_form_and_query(standin: SlackStandin) -> None:
    auth = {"Authorization": "Bearer xoxb-test"}
    url = f"{standin.api_url}chat.postMessage"
    httpx.post(url, json={"channel": "C1", "text": "j", "blocks": [SECTION]}, headers=auth)
    httpx.post(url, data={"channel": "C1", "text": "f", "blocks": json.dumps([SECTION])}, headers=auth)
    httpx.get(url, params={"channel": "C1", "text": "q", "token": "xoxb-test"})

    json_call, form_call, query_call = standin.calls("chat.postMessage")
    assert json_call.params["blocks"] == [SECTION]
    assert form_call.params["blocks"] == json.dumps([SECTION])  # left as received
    assert query_call.status == 200 and query_call.ok
    assert [m.blocks for m in standin.messages()] == [[SECTION], [SECTION], None]


def test_wait_for_sees_calls_made_from_another_thread(standin: SlackStandin, client: WebClient) -> None:
    poster = threading.Thread(target=lambda: client.chat_postMessage(channel="C1", text="later"))
    poster.start()

    [call] = standin.wait_for_calls("chat.postMessage", 1, timeout=5)
    poster.join()

    assert call.params["text"] == "later"


def test_wait_for_times_out_listing_recent_calls(standin: SlackStandin, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(TimeoutError, match=r"auth\.test -> 200 ok"):
        standin.wait_for_calls("chat.postMessage", timeout=0.2)


def test_latency_delays_only_that_method(standin: SlackStandin, client: WebClient) -> None:
    standin.set_latency("chat.postMessage", 1.0)
    slow = threading.Thread(target=lambda: client.chat_postMessage(channel="C1", text="slow"))
    slow.start()
    standin.wait_for(lambda s: s.in_flight("chat.postMessage"), timeout=5)

    assert client.auth_test()["ok"]
    assert standin.in_flight("chat.postMessage") == 1  # still held back while auth.test was answered
    slow.join()
    assert [c.method for c in standin.calls()] == ["auth.test", "chat.postMessage"]
    assert standin.in_flight("chat.postMessage") == 0


def _in_background(call: Callable[[], T]) -> tuple[threading.Thread, list[T]]:
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(call()))
    thread.start()
    return thread, results


def _finished(thread: threading.Thread) -> bool:
    thread.join(timeout=10)
    return not thread.is_alive()


def test_block_holds_that_method_until_unblocked(standin: SlackStandin, client: WebClient) -> None:
    standin.block("chat.postMessage")
    poster, results = _in_background(lambda: client.chat_postMessage(channel="C1", text="held"))
    standin.wait_for(lambda s: s.in_flight("chat.postMessage") == 1)

    assert client.auth_test()["ok"]  # other methods still answer
    assert standin.in_flight("chat.postMessage") == 1
    assert standin.calls("chat.postMessage") == [] and standin.messages() == []

    standin.unblock("chat.postMessage")
    assert _finished(poster)
    assert results[0]["ok"] and [m.text for m in standin.messages("C1")] == ["held"]
    assert standin.in_flight("chat.postMessage") == 0
    assert client.chat_postMessage(channel="C1", text="free")["ok"]  # no longer held


def test_block_holds_response_url_posts(standin: SlackStandin) -> None:
    webhook = WebhookClient(standin.response_url("cmd3"))
    standin.block("response_url")
    sender, results = _in_background(lambda: webhook.send(text="later"))
    standin.wait_for(lambda s: s.in_flight("response_url") == 1)

    assert standin.responses("cmd3") == []

    standin.unblock("response_url")
    assert _finished(sender)
    assert results[0].status_code == 200
    assert [body["text"] for body in standin.wait_for_response("cmd3")] == ["later"]


def test_reset_lets_blocked_calls_through_and_forgets_the_block(
    standin: SlackStandin, client: WebClient
) -> None:
    standin.block("auth.test")
    caller, results = _in_background(client.auth_test)
    standin.wait_for(lambda s: s.in_flight("auth.test") == 1)

    standin.reset()

    assert _finished(caller) and results[0]["ok"]
    assert client.auth_test()["ok"]  # answered at once: the block is gone


def test_stop_lets_blocked_calls_through() -> None:
    standin = SlackStandin().start()
    client = WebClient(token="xoxb-test", base_url=standin.api_url, retry_handlers=[])
    standin.block("chat.postMessage")
    poster, results = _in_background(lambda: client.chat_postMessage(channel="C1", text="x"))
    standin.wait_for(lambda s: s.in_flight("chat.postMessage") == 1)

    standin.stop()

    assert _finished(poster) and results[0]["ok"]


def test_clear_failures_drops_scripted_failures_but_keeps_calls(
    standin: SlackStandin, client: WebClient
) -> None:
    standin.fail_next("chat.postMessage", status=500, times=5)
    standin.fail_response_url("cmd4", 500, times=5)
    api_error(lambda: client.chat_postMessage(channel="C1", text="fails"))

    standin.clear_failures()

    assert client.chat_postMessage(channel="C1", text="works")["ok"]
    assert WebhookClient(standin.response_url("cmd4")).send(text="works").status_code == 200
    assert [c.status for c in standin.calls("chat.postMessage")] == [500, 200]
    assert [m.text for m in standin.messages()] == ["works"]


def test_reset_forgets_everything(standin: SlackStandin, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")
    standin.fail_next("auth.test", error="account_inactive")
    standin.set_missing_channel("C1")

    standin.reset()

    assert standin.calls() == [] and standin.messages() == []
    assert client.auth_test()["ok"]
    assert client.chat_postMessage(channel="C1", text="again")["ok"]


def test_socket_endpoint_says_hello_and_records_acks(standin: SlackStandin, client: WebClient) -> None:
    url = client.apps_connections_open(app_token="xapp-test")["url"]

    async def connect() -> dict[str, object]:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            hello = await ws.receive_json()
            await ws.send_json({"envelope_id": "e1"})
            return hello

    assert asyncio.run(connect())["type"] == "hello"
    [ack] = standin.wait_for_calls("socket")
    assert ack.params == {"envelope_id": "e1"}
