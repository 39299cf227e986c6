"""The playground: a Slack-like page over the stand-in, live; what a person does there goes through the
SlackClient (bot/demo/client.py), signed exactly as Slack would send it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.demo.blockkit import Viewer, plain_to_html, render_view_body
from bot.demo.client import Click, PlaygroundRefusal, SlackClient
from bot.demo.timeline import IMAGE_TYPES, channel_timeline

HEARTBEAT_S = 15.0
LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Playground:
    """The page's HTTP routes; Slack-side actions run on threads (the driver is synchronous)."""

    def __init__(
        self,
        client: SlackClient,
        tz: str,
        *,
        page_host: str = "127.0.0.1",
    ) -> None:
        self.standin, self.client, self.page_host = client.standin, client, page_host
        self.closing = asyncio.Event()  # set at shutdown: open event streams end at once
        self.people, self.channels, self.tz = client.people, client.channels, ZoneInfo(tz)
        client.changed = self._bump
        self.version = 0
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._templates = Environment(
            loader=PackageLoader("bot.demo", "templates"), autoescape=select_autoescape(default=True)
        )

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024, middlewares=[self._same_origin])
        app.on_startup.append(self._watch)
        app.on_shutdown.append(self._close_streams)
        app.router.add_get("/", self.page)
        app.router.add_get("/state", self.state)
        app.router.add_get("/events", self.events)
        app.router.add_get("/files/{file_id}", self.file)
        app.router.add_get("/record", self.record)
        app.router.add_post("/command", self.command)
        app.router.add_post("/action", self.action)
        app.router.add_post("/submit", self.submit)
        app.router.add_post("/close", self.close)
        app.router.add_post("/alert", self.alert)
        app.router.add_static("/static", __file__.rsplit("/", 1)[0] + "/static")
        return app

    @web.middleware
    async def _same_origin(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Only the page itself may act: another site open in the same browser cannot post here (no
        form or text/plain posts, no foreign Origin) nor read it through a rebound DNS name (Host)."""
        hostname = request.host.rsplit(":", 1)[0].strip("[]") if request.host else ""
        # On loopback only loopback names; a page served wider (--host, with its warning) is reached
        # by names the demo cannot know.
        if self.page_host in LOCAL_NAMES and hostname not in LOCAL_NAMES:
            raise web.HTTPMisdirectedRequest(text=json.dumps({"error": f"unknown host {hostname!r}"}))
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != request.host:
                raise web.HTTPForbidden(text=json.dumps({"error": "the request comes from another site"}))
            if request.content_type != "application/json":
                raise web.HTTPUnsupportedMediaType(text=json.dumps({"error": "send application/json"}))
        return await handler(request)

    async def _close_streams(self, _: web.Application) -> None:
        self.closing.set()
        if self._changed is not None:
            self._changed.set()

    async def _watch(self, _: web.Application) -> None:
        self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        self.standin.on_change(self._bump)

    def _bump(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._set_changed)

    def _set_changed(self) -> None:
        self.version += 1
        if self._changed is not None:
            self._changed.set()

    # -- reading -----------------------------------------------------------------------------------

    def viewer(self) -> Viewer:
        names = {p.id: p.name for p in self.people} | self.standin.user_names()
        return Viewer(self.tz, users=names, channels={c.id: c.name for c in self.channels})

    async def page(self, request: web.Request) -> web.Response:
        template = self._templates.get_template("playground.html.j2")
        html = template.render(people=self.people, channels=self.channels, tz=str(self.tz))
        return web.Response(text=html, content_type="text/html")

    async def state(self, request: web.Request) -> web.Response:
        channel, user = (
            self.client.channel_id(request.query.get("channel")),
            self.client.person_id(request.query.get("user")),
        )
        viewer = self.viewer()
        entries = channel_timeline(
            channel, user, self.standin.messages(), self.standin.ephemerals(), self.standin.files(), viewer
        )
        messages = self._templates.get_template("messages.html.j2").render(entries=entries)
        counts = {c.id: sum(1 for m in self.standin.messages(c.id) if not m.thread_ts) for c in self.channels}
        return web.json_response(
            {
                "version": self.version,
                "messages": messages,
                "modal": self._modal(user, viewer),
                "counts": counts,
            }
        )

    def _modal(self, user: str, viewer: Viewer) -> Json | None:
        view = self.client.open_view(user)
        if view is None:
            return None
        body = render_view_body(view, viewer, self.client.modals.errors.get(view["id"]))
        return {
            "id": view["id"],
            "title": str(plain_to_html(str((view.get("title") or {}).get("text", "")))),
            "submit": str(plain_to_html(str((view.get("submit") or {}).get("text", "Submit")))),
            "close": str(plain_to_html(str((view.get("close") or {}).get("text", "Cancel")))),
            "body": str(body),
        }

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: one `changed` per burst of stand-in activity, and a heartbeat."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        assert self._changed is not None
        seen = -1
        with contextlib.suppress(ConnectionError):  # the tab was closed or reloaded
            while not self.closing.is_set():
                if seen != self.version:
                    seen = self.version
                    await response.write(f"data: {seen}\n\n".encode())
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), HEARTBEAT_S)
                    await asyncio.sleep(0.05)  # one refresh for a burst of calls
                except TimeoutError:
                    await response.write(b": heartbeat\n\n")
        return response

    async def file(self, request: web.Request) -> web.Response:
        file = self.standin.file(request.match_info["file_id"])
        if file is None or file.data is None:
            raise web.HTTPNotFound(text="no such file")
        kind = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        inline = kind in IMAGE_TYPES  # raster images only: an SVG or HTML file could run script here
        name = "".join(c for c in file.filename if c.isprintable() and c not in '"\\') or "file"
        disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(name)}"
        headers = {
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        }
        content_type = kind if inline else "application/octet-stream"
        return web.Response(body=file.data, content_type=content_type, headers=headers)

    async def record(self, request: web.Request) -> web.Response:
        """Everything Slack shows, as JSON: what the tour and the tests check against."""
        return web.json_response(
            {
                "messages": [_message_json(m) for m in self.standin.messages()],
                "ephemerals": [_message_json(m) | {"user": m.user} for m in self.standin.ephemerals()],
                "files": [
                    {
                        "id": f.id,
                        "name": f.filename,
                        "channel": f.channel,
                        "thread_ts": f.thread_ts,
                        "size": len(f.data or b""),
                    }
                    for f in self.standin.files()
                    if f.completed
                ],
            }
        )

    # -- acting ------------------------------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        form = await _json(request)
        text = str(form.get("text", "")).strip()
        return await self._answer(self.client.do_command, form.get("channel"), form.get("user"), text)

    async def action(self, request: web.Request) -> web.Response:
        form = await _json(request)
        click = Click(
            str(form.get("action_id") or ""),
            None if form.get("value") is None else str(form["value"]),
            str(form.get("block_id") or ""),
            str(form.get("message_ts") or "") or None,
        )
        return await self._answer(self.client.do_action, form.get("channel"), form.get("user"), click)

    async def submit(self, request: web.Request) -> web.Response:
        form = await _json(request)
        values = form.get("values") if isinstance(form.get("values"), dict) else {}
        view_id = str(form.get("view_id") or "")
        return await self._answer(self.client.do_submit, view_id, form.get("user"), values)

    async def close(self, request: web.Request) -> web.Response:
        form = await _json(request)
        self.client.close_view(str(form.get("view_id") or ""))
        return web.json_response({"ok": True})

    async def alert(self, request: web.Request) -> web.Response:
        form = await _json(request)
        state = "resolved" if form.get("state") == "resolved" else "firing"
        return await self._answer(self.client.fire_alert, state)

    async def _answer(self, act: Callable[..., None], *args: Any) -> web.Response:
        try:
            await asyncio.to_thread(act, *args)
        except PlaygroundRefusal as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=exc.status)
        return web.json_response({"ok": True})


def _message_json(message: Any) -> Json:
    return {
        "channel": message.channel,
        "ts": message.ts,
        "thread_ts": message.thread_ts,
        "text": message.text,
        "blocks": message.blocks,
        "edits": len(message.edits),
    }


async def _json(request: web.Request) -> Json:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not JSON"})) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body is not a JSON object"}))
    return body
