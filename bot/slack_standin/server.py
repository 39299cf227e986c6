"""A local Slack stand-in: a real HTTP server on loopback that records calls and scripts failures."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Self, TypeVar

from aiohttp import WSMsgType, web

from bot.slack_standin.api import ApiError, SlackWorld
from bot.slack_standin.http import (
    as_params,
    bearer_token,
    parse_json,
    read_params,
    read_upload,
    to_response,
)
from bot.slack_standin.model import (
    Answer,
    Call,
    Failure,
    JsonOrText,
    Params,
    Reader,
    StoredFile,
    StoredMessage,
    Workspace,
    status_text,
)
from bot.slack_standin.pacing import SlackLimits, SlackPacing

T = TypeVar("T")


class SlackStandin:
    """Slack's Web API, response URLs, file uploads and a Socket Mode hello, served on 127.0.0.1."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        *,
        app_token: str = "xapp-test",
        response_url_limit: int = 5,
        ts_origin: int = 1700000000,
        pace_like_slack: SlackLimits | None = None,
        **workspace: str,
    ) -> None:
        ident = Workspace(bot_token=bot_token, app_token=app_token, team_id=team_id, bot_user_id=bot_user_id)
        # The demo starts ts at the current time, so ts of an earlier run kept in its database never recur.
        self._world = SlackWorld(replace(ident, **workspace), ts_origin)
        # Slack lets a response_url be used five times; later posts are refused.
        self._response_url_limit = response_url_limit
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._responses: dict[str, list[Any]] = defaultdict(list)
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._periodic: dict[str, tuple[int, Failure]] = {}
        self._seen: Counter[str] = Counter()
        self._response_failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._latency: dict[str, float] = {}
        self._gates: dict[str, asyncio.Event] = {}
        self._in_flight: Counter[str] = Counter()
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._readers: dict[str, Reader] = {}  # response_url name -> who sees what is posted to it
        self._view_triggers: dict[str, str] = {}  # view id -> the trigger_id views.open was called with
        self._listeners: list[Callable[[], None]] = []
        # Off unless asked (benchmarks): answer 429 with Retry-After beyond Slack's rate limits.
        self._pacing = SlackPacing(pace_like_slack) if pace_like_slack is not None else None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._world.base_url = self.url
        self._loop = asyncio.new_event_loop()
        started = asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop)
        self._thread = threading.Thread(target=self._loop.run_forever, name="slack-standin", daemon=True)
        self._thread.start()
        started.result(timeout=10)
        return self

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._open_all_gates()  # held handlers must finish, or the server's cleanup waits for them
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/"

    @property
    def api_url(self) -> str:
        return f"{self.url}api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}response/{name}"

    # -- HTTP handlers (run on the stand-in's loop) -----------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        method = request.match_info["method"]
        answer: Answer
        try:
            params = await read_params(request)
        except ValueError:
            params, answer = {}, (200, {}, {"ok": False, "error": "invalid_json"})
        else:
            await self._hold(method)
            answer = self._answer_api(method, params, bearer_token(request, params))
        return self._respond(request, method, params, answer, received_at)

    async def _hold(self, method: str) -> None:
        """Delay the answer by the method's latency and while it is blocked; visible through `in_flight`."""
        with self._cond:
            delay = self._latency.get(method, 0.0)
            gate = self._gates.get(method)
            self._in_flight[method] += 1
            self._cond.notify_all()
        try:
            await asyncio.sleep(delay)
            if gate is not None:
                await gate.wait()
        finally:
            with self._cond:
                self._in_flight[method] -= 1
                self._cond.notify_all()

    def _answer_api(self, method: str, params: Params, token: str | None) -> Answer:
        with self._cond:
            if self._failures[method]:
                return self._failures[method].popleft().answer()
            self._seen[method] += 1
            every = self._periodic.get(method)
            if every is not None and self._seen[method] % every[0] == 0:
                return every[1].answer()
            wait = self._pacing.retry_after(method, params) if self._pacing is not None else None
            if wait is not None:
                return Failure(429, "ratelimited", wait).answer()
            response = self._world.call(method, params, token)
            if response.get("ok"):
                self._after(method, params, response)
            return 200, {}, response

    def _after(self, method: str, params: Params, response: Params) -> None:
        """What a Slack client needs beyond the API's answer: who opened a view, where a file shows."""
        if method == "views.open":
            self._view_triggers[str(response["view"]["id"])] = str(params.get("trigger_id"))
        elif method == "files.completeUploadExternal":
            for entry in response["files"]:
                file = self._world.files[entry["id"]]
                if file.channel and file.shared_ts is None:
                    file.shared_ts = self._world.next_ts()

    async def _handle_upload(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        file_id = request.match_info["file_id"]
        data = await read_upload(request)
        await self._hold("upload")
        with self._cond:
            failures = self._failures["upload"]
            answer = failures.popleft().answer() if failures else self._answer_upload(file_id, data)
        params = {"file_id": file_id, "length": len(data)}
        return self._respond(request, "upload", params, answer, received_at)

    def _answer_upload(self, file_id: str, data: bytes) -> Answer:
        if not self._world.receive_upload(file_id, data):
            return 404, {}, "file_not_found"
        return 200, {}, f"OK - {len(data)}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        name = request.match_info["name"]
        try:
            body = await request.json()
        except ValueError:
            body = await request.text()
        await self._hold("response_url")
        with self._cond:
            answer = self._answer_response_url(name, body)
        return self._respond(request, "response_url", as_params(body), answer, received_at)

    def _answer_response_url(self, name: str, body: Any) -> Answer:
        if self._response_failures[name]:
            failure = self._response_failures[name].popleft()
            return failure.status, {}, failure.body or status_text(failure.status)
        if len(self._responses[name]) >= self._response_url_limit:
            return 404, {}, "used_url"
        reader = self._readers.get(name)
        if reader is not None and isinstance(body, dict):
            try:  # what Slack would not show, it answers 400 to, as chat.postMessage answers an error
                if not body.get("delete_original"):
                    self._world.message_content(body)
            except ApiError as exc:
                return 400, {}, exc.code
            self._show_response(reader, body)
        self._responses[name].append(body)
        return 200, {}, "ok"

    def _show_response(self, reader: Reader, body: Params) -> None:
        """Show a response_url post as Slack does: replacing or deleting the clicked message (in the
        channel, or an ephemeral one), in the channel for everyone, or else to its reader only."""
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        here = reader.channel, reader.message_ts
        clicked = [m for m in self._world.messages + self._world.ephemerals if (m.channel, m.ts) == here]
        if body.get("delete_original"):
            for message in clicked:  # nothing to delete is no error, and shows nothing
                (self._world.ephemerals if message.user else self._world.messages).remove(message)
        elif clicked and body.get("replace_original"):
            clicked[0].text, clicked[0].blocks = text, blocks
            clicked[0].edits.append({"text": text, "blocks": blocks})
        elif body.get("response_type") == "in_channel":
            ts = self._world.next_ts()
            self._world.messages.append(StoredMessage(ts, reader.channel, text, blocks, reader.thread_ts))
        else:
            self._show_ephemeral(reader, text, blocks)

    def _show_ephemeral(self, reader: Reader, text: str, blocks: Any) -> None:
        ts = self._world.next_ts()
        message = StoredMessage(ts, reader.channel, text, blocks, reader.thread_ts, user=reader.user)
        self._world.ephemerals.append(message)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self._cond:
            self._sockets.add(ws)
            self._cond.notify_all()
        app_id = self._world.workspace.app_id
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": app_id}})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self._record(Call("socket", parse_json(msg.data), {}, 101, "", time.monotonic(), "/socket"))
        self._sockets.discard(ws)
        return ws

    def push_socket(self, envelope_type: str, payload: Params) -> str:
        """Send an envelope to every connected Socket Mode client; returns its envelope_id.

        The client's acknowledgement arrives as a recorded "socket" call with that envelope_id.
        """
        assert self._loop is not None, "the stand-in is not running"
        envelope_id = f"env-{time.monotonic_ns()}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type == "slash_commands",
            "retry_attempt": 0,
        }
        sockets = list(self._sockets)
        if not sockets:
            raise RuntimeError("no Socket Mode client is connected to the stand-in")
        for ws in sockets:
            asyncio.run_coroutine_threadsafe(ws.send_json(envelope), self._loop).result(timeout=5)
        return envelope_id

    def connected_sockets(self) -> int:
        with self._cond:
            return len(self._sockets)

    # -- recording and waiting --------------------------------------------------------------------

    def _respond(
        self, request: web.Request, method: str, params: Params, answer: Answer, received_at: float
    ) -> web.Response:
        status, headers, body = answer
        self._record(Call(method, params, dict(request.headers), status, body, received_at, request.path))
        return to_response(status, headers, body)

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    # -- a Slack client's view (the demo's playground) --------------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` (on the stand-in's thread; it must not block) after every recorded call."""
        with self._cond:
            self._listeners.append(listener)

    def bind_response_url(self, name: str, reader: Reader) -> None:
        """From now on, show what IRIS posts to response_url `name` to `reader`, as Slack would."""
        with self._cond:
            self._readers[name] = reader

    def show_ack(self, reader: Reader, body: Params) -> None:
        """Show a slash command's acknowledgement body (text, blocks) as Slack does: to its reader only,
        or in the channel when IRIS asked for response_type in_channel."""
        with self._cond:
            self._show_response(reader, body)
        self._record(Call("ack", body, {}, 200, "", time.monotonic(), "/ack"))

    def views_opened_by(self, trigger_ids: set[str]) -> list[Params]:
        """The views IRIS opened with one of `trigger_ids`, oldest first."""
        with self._cond:
            opened = [v for v, t in self._view_triggers.items() if t in trigger_ids]
            return [json.loads(json.dumps(self._world.views[v])) for v in opened if v in self._world.views]

    def file(self, file_id: str) -> StoredFile | None:
        with self._cond:
            found = self._world.files.get(file_id)
            return StoredFile(**found.__dict__) if found else None

    def channel_name(self, channel_id: str) -> str:
        with self._cond:
            return self._world.channel_names.get(channel_id, channel_id.lower())

    def user_names(self) -> dict[str, str]:
        with self._cond:
            return {user: str(info["name"]) for user, info in self._world.users.items()}

    def in_flight(self, method: str) -> int:
        """How many calls of `method` arrived and are not answered yet (see `set_latency`, `block`)."""
        with self._cond:
            return self._in_flight[method]

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str | None = None) -> list[StoredMessage]:
        with self._cond:
            return [m.copy() for m in self._world.messages if channel is None or m.channel == channel]

    def message_payload(self, channel: str, ts: str | None = None) -> Params | None:
        """Message `ts` (default: the latest top-level one) shaped as in an interaction payload."""
        with self._cond:
            found = [m for m in self._world.messages if m.channel == channel and (m.ts == ts or not ts)]
            found = [m for m in found if ts or not m.thread_ts]
            return self._world.message_json(found[-1]) if found else None

    def ephemerals(self, channel: str | None = None) -> list[StoredMessage]:
        with self._cond:
            return [m.copy() for m in self._world.ephemerals if channel is None or m.channel == channel]

    def files(self) -> list[StoredFile]:
        with self._cond:
            return [StoredFile(**f.__dict__) for f in self._world.files.values()]

    def views(self) -> list[Params]:
        with self._cond:
            return [json.loads(json.dumps(v)) for v in self._world.views.values()]

    def responses(self, name: str) -> list[Any]:
        with self._cond:
            return list(self._responses.get(name, []))

    def reset(self) -> None:
        """Forget calls, messages, files, views, responses and everything scripted or set.

        Calls held by `block` are let through (and answered as the emptied world would answer them).
        """
        self._open_all_gates()
        with self._cond:
            self._calls.clear()
            self._responses.clear()
            self._failures.clear()
            self._periodic.clear()
            self._response_failures.clear()
            self._latency.clear()
            self._readers.clear()
            self._view_triggers.clear()
            self._world.clear()
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[SlackStandin], T], timeout: float = 10.0) -> T:
        """Block until `predicate(self)` is truthy and return it; woken by every recorded call.

        The predicate runs under the stand-in's lock: it may read the stand-in but must not call it over HTTP.
        """
        with self._cond:
            result = self._cond.wait_for(lambda: predicate(self), timeout)
            if not result:
                raise TimeoutError(self._timeout_message(timeout))
            return result

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until `method` was called at least `count` times (failed calls count too); return them all."""

        def enough(standin: SlackStandin) -> list[Call]:
            calls = standin.calls(method)
            return calls if len(calls) >= count else []

        return self.wait_for(enough, timeout)

    def wait_for_response(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """Wait until response URL `name` accepted at least `count` bodies; return them all."""

        def enough(standin: SlackStandin) -> list[Any]:
            bodies = standin.responses(name)
            return bodies if len(bodies) >= count else []

        return self.wait_for(enough, timeout)

    def _timeout_message(self, timeout: float) -> str:
        recent = [f"  {c.method} -> {c.status} {self._summary(c.response)}" for c in self._calls[-10:]]
        listing = "\n".join(recent) or "  (no calls at all)"
        return f"Slack stand-in: condition not met within {timeout}s; last calls:\n{listing}"

    @staticmethod
    def _summary(response: JsonOrText) -> str:
        if isinstance(response, dict):
            return "ok" if response.get("ok") else str(response.get("error"))
        return response[:60]

    # -- scripting --------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
        body: JsonOrText | None = None,
    ) -> None:
        """Fail the next `times` calls of `method`: HTTP 429 unless `error` alone is given (then 200)."""
        chosen = status if status is not None else (200 if error else 429)
        with self._cond:
            self._failures[method].extend([Failure(chosen, error, retry_after, body)] * times)

    def fail_every(self, method: str, nth: int, *, status: int = 429, retry_after: int = 1) -> None:
        """From now on, answer every `nth` call of `method` with `status` (429: with Retry-After)."""
        with self._cond:
            self._seen[method] = 0
            self._periodic[method] = (nth, Failure(status, None, retry_after, None))

    def fail_response_url(self, name: str, status: int, times: int = 1) -> None:
        with self._cond:
            self._response_failures[name].extend([Failure(status)] * times)

    def clear_failures(self) -> None:
        """Drop every scripted failure not used yet; unlike `reset`, recorded calls and messages stay."""
        with self._cond:
            self._failures.clear()
            self._periodic.clear()
            self._response_failures.clear()

    def block(self, method: str) -> None:
        """Hold every call of `method` ("response_url" and "upload" too) unanswered until `unblock`.

        A held call counts in `in_flight(method)`, so a test can wait for it deterministically.
        """
        with self._cond:
            self._gates.setdefault(method, asyncio.Event())

    def unblock(self, method: str) -> None:
        """Answer the held calls of `method` and stop holding new ones."""
        with self._cond:
            gate = self._gates.pop(method, None)
        if gate is not None:
            self._open(gate)

    def _open_all_gates(self) -> None:
        with self._cond:
            gates, self._gates = list(self._gates.values()), {}
        for gate in gates:
            self._open(gate)

    def _open(self, gate: asyncio.Event) -> None:
        # asyncio.Event is not thread-safe: it must be set on the loop its waiters run on.
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(gate.set)
        else:
            gate.set()

    def set_latency(self, method: str, seconds: float) -> None:
        with self._cond:
            self._latency[method] = seconds

    def set_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        with self._cond:
            self._world.usergroups[group_id] = list(user_ids)

    def set_user(self, user_id: str, *, name: str | None = None, tz: str | None = None) -> None:
        with self._cond:
            tz = tz or self._world.workspace.default_tz
            self._world.users[user_id] = {"name": name or user_id.lower(), "tz": tz}

    def set_channel_name(self, channel_id: str, name: str) -> None:
        with self._cond:
            self._world.channel_names[channel_id] = name

    def set_missing_channel(self, channel_id: str) -> None:
        with self._cond:
            self._world.missing_channels.add(channel_id)

    def set_not_in_channel(self, channel_id: str) -> None:
        with self._cond:
            self._world.outside_channels.add(channel_id)
