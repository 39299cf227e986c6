"""The Slack Web API methods the stand-in answers, over an in-memory workspace."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack_standin.blockkit import MESSAGE_BLOCK_LIMIT, block_errors, view_errors
from bot.slack_standin.model import Params, StoredFile, StoredMessage, Workspace

Handler = Callable[[Params], Params]

# Slack's documented limit; the Block Kit ones live in blockkit.py.
MESSAGE_TEXT_LIMIT = 40000


class ApiError(Exception):
    """A Slack error code answered as `{"ok": false, "error": code}`, with any detail Slack puts beside it."""

    def __init__(self, code: str, detail: Params | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail or {}

    def answer(self) -> Params:
        return {"ok": False, "error": self.code, **self.detail}


def json_field(value: Any, error: str) -> Any:
    """Decode a field that form-encoded clients send as a JSON string and JSON clients send as is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(error) from None


def check_blocks(value: Any, limit: int) -> list[Any] | None:
    if value is None or value == "":
        return None
    blocks = json_field(value, "invalid_blocks")
    errors = block_errors(blocks, limit)
    if errors:
        messages = [f"[ERROR] {error}" for error in errors]
        raise ApiError("invalid_blocks", {"errors": errors, "response_metadata": {"messages": messages}})
    return blocks


def require(params: Params, name: str, error: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise ApiError(error)
    return str(value)


class SlackWorld:
    """Messages, files, views, users and channels of the pretend workspace; not thread-safe on its own."""

    def __init__(self, workspace: Workspace, ts_origin: int = 1700000000) -> None:
        self.ts_origin = ts_origin  # the seconds part of the first ts handed out
        self.workspace = workspace
        self.base_url = ""
        # Counters survive clear() so a ts handed out before a reset is never handed out again.
        self._sequence = 0
        self.clear()

    def clear(self) -> None:
        self.messages: list[StoredMessage] = []
        self.ephemerals: list[StoredMessage] = []
        self.files: dict[str, StoredFile] = {}
        self.views: dict[str, Params] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, Params] = {}
        self.channel_names: dict[str, str] = {}
        self.missing_channels: set[str] = set()
        self.outside_channels: set[str] = set()

    def call(self, method: str, params: Params, token: str | None) -> Params:
        """Answer one Web API call as Slack would, errors included."""
        handler = self.handlers().get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            error = self.auth_error(method, token)
            if error:
                raise ApiError(error)
            return handler(params)
        except ApiError as exc:
            return exc.answer()

    def handlers(self) -> dict[str, Handler]:
        return {
            "api.test": self.api_test,
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "users.info": self.users_info,
            "usergroups.users.list": self.usergroups_users_list,
            "conversations.info": self.conversations_info,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
            "apps.connections.open": self.apps_connections_open,
        }

    def auth_error(self, method: str, token: str | None) -> str | None:
        if method == "api.test":
            return None
        if not token:
            return "not_authed"
        expected = self.workspace.app_token if method == "apps.connections.open" else self.workspace.bot_token
        return None if token == expected else "invalid_auth"

    def next_ts(self) -> str:
        self._sequence += 1
        return f"{self.ts_origin + self._sequence // 10000}.{self._sequence % 10000 * 100:06d}"

    def next_id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}{self._sequence:08d}"

    def check_channel(self, channel: str, *, posting: bool = True) -> None:
        if not channel or channel in self.missing_channels:
            raise ApiError("channel_not_found")
        if posting and channel in self.outside_channels:
            raise ApiError("not_in_channel")

    def find_message(self, channel: str, ts: str) -> StoredMessage:
        for message in self.messages:
            if message.channel == channel and message.ts == ts:
                return message
        raise ApiError("message_not_found")

    def message_json(self, message: StoredMessage) -> Params:
        body: Params = {
            "type": "message",
            "text": message.text,
            "user": message.user or self.workspace.bot_user_id,
            "bot_id": self.workspace.bot_id,
            "app_id": self.workspace.app_id,
            "team": self.workspace.team_id,
            "ts": message.ts,
        }
        if message.blocks is not None:
            body["blocks"] = message.blocks
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        return body

    def api_test(self, params: Params) -> Params:
        return {"ok": True, "args": {k: v for k, v in params.items() if k != "token"}}

    def auth_test(self, params: Params) -> Params:
        ws = self.workspace
        return {
            "ok": True,
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": "IRIS Test",
            "user": "iris",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def message_content(self, params: Params) -> tuple[str, list[Any] | None]:
        text = str(params.get("text") or "")
        blocks = check_blocks(params.get("blocks"), MESSAGE_BLOCK_LIMIT)
        if not text and blocks is None and not params.get("attachments"):
            raise ApiError("no_text")
        if len(text) > MESSAGE_TEXT_LIMIT:
            raise ApiError("msg_too_long")
        return text, blocks

    def chat_post_message(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.check_channel(channel)
        text, blocks = self.message_content(params)
        thread_ts = str(params.get("thread_ts") or "") or None
        message = StoredMessage(self.next_ts(), channel, text, blocks, thread_ts)
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": self.message_json(message)}

    def chat_update(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.check_channel(channel)
        message = self.find_message(channel, require(params, "ts", "message_not_found"))
        text, blocks = self.message_content(params)
        message.text, message.blocks = text, blocks
        message.edits.append({"text": text, "blocks": blocks})
        body = self.message_json(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "text": text, "message": body}

    def chat_post_ephemeral(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.check_channel(channel)
        user = require(params, "user", "user_not_in_channel")
        text, blocks = self.message_content(params)
        thread_ts = str(params.get("thread_ts") or "") or None
        message = StoredMessage(self.next_ts(), channel, text, blocks, thread_ts, user=user)
        self.ephemerals.append(message)
        return {"ok": True, "message_ts": message.ts}

    def chat_delete(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.check_channel(channel)
        message = self.find_message(channel, require(params, "ts", "message_not_found"))
        self.messages.remove(message)
        return {"ok": True, "channel": channel, "ts": message.ts}

    def store_view(self, view_id: str, params: Params) -> Params:
        view = json_field(params.get("view"), "invalid_arguments")
        errors = view_errors(view)
        if errors:
            messages = [f"[ERROR] {error}" for error in errors]
            raise ApiError("invalid_arguments", {"response_metadata": {"messages": messages}})
        stored = {
            **view,
            "id": view_id,
            "team_id": self.workspace.team_id,
            "app_id": self.workspace.app_id,
            "bot_id": self.workspace.bot_id,
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": {}},
            "hash": self.next_id("hash."),
        }
        self.views[view_id] = stored
        return {"ok": True, "view": stored}

    def views_open(self, params: Params) -> Params:
        require(params, "trigger_id", "invalid_trigger_id")
        return self.store_view(self.next_id("V"), params)

    def views_update(self, params: Params) -> Params:
        # Views opened by a driven payload were never seen here, so an unknown id is adopted, not refused.
        view_id = str(params.get("view_id") or params.get("external_id") or "")
        if not view_id:
            raise ApiError("not_found")
        return self.store_view(view_id, params)

    def views_publish(self, params: Params) -> Params:
        user = require(params, "user_id", "user_not_found")
        response = self.store_view(self.next_id("V"), params)
        response["view"]["user_id"] = user
        return response

    def user_json(self, user_id: str) -> Params:
        user = self.users.get(user_id) or {"name": user_id.lower(), "tz": self.workspace.default_tz}
        offset = ZoneInfo(user["tz"]).utcoffset(datetime.now(UTC))
        return {
            "id": user_id,
            "team_id": self.workspace.team_id,
            "name": user["name"],
            "real_name": user["name"],
            "tz": user["tz"],
            "tz_label": user["tz"],
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": user_id == self.workspace.bot_user_id,
            "deleted": False,
            "profile": {"display_name": user["name"], "real_name": user["name"]},
        }

    def users_info(self, params: Params) -> Params:
        user_id = str(params.get("user") or "")
        if not user_id.startswith(("U", "W")):
            raise ApiError("user_not_found")
        return {"ok": True, "user": self.user_json(user_id)}

    def usergroups_users_list(self, params: Params) -> Params:
        group = str(params.get("usergroup") or "")
        if group not in self.usergroups:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    def conversations_info(self, params: Params) -> Params:
        channel = require(params, "channel", "channel_not_found")
        self.check_channel(channel, posting=False)
        name = self.channel_names.get(channel, channel.lower())
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": name,
                "name_normalized": name,
                "is_channel": channel.startswith("C"),
                "is_group": False,
                "is_im": channel.startswith("D"),
                "is_private": channel.startswith("G"),
                "is_archived": False,
                "is_member": channel not in self.outside_channels,
                "created": 1700000000,
            },
        }

    def files_get_upload_url(self, params: Params) -> Params:
        filename = require(params, "filename", "invalid_arguments")
        try:
            length = int(require(params, "length", "invalid_arguments"))
        except ValueError:
            raise ApiError("invalid_arguments") from None
        file = StoredFile(self.next_id("F"), filename, length)
        self.files[file.id] = file
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file.id}", "file_id": file.id}

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        file = self.files.get(file_id)
        if file is None:
            return False
        file.data = data
        return True

    def files_complete_upload(self, params: Params) -> Params:
        entries = json_field(params.get("files"), "invalid_arguments")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        channel = str(params.get("channel_id") or params.get("channels") or "") or None
        if channel:
            self.check_channel(channel)
        return {"ok": True, "files": [self.complete_file(entry, channel, params) for entry in entries]}

    def complete_file(self, entry: Any, channel: str | None, params: Params) -> Params:
        file = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if file is None or file.data is None:
            raise ApiError("file_not_found")
        file.title = entry.get("title") or file.filename
        file.channel, file.completed = channel, True
        file.initial_comment = params.get("initial_comment") or None
        file.thread_ts = params.get("thread_ts") or None
        return {"id": file.id, "name": file.filename, "title": file.title, "size": len(file.data)}

    def apps_connections_open(self, params: Params) -> Params:
        return {"ok": True, "url": self.base_url.replace("http://", "ws://", 1) + "socket"}
