"""Plain records of the Slack stand-in: who it pretends to be, what it stores, what it was asked."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

Params = dict[str, Any]
JsonOrText = Params | str
Answer = tuple[int, dict[str, str], JsonOrText]


@dataclass(frozen=True)
class Workspace:
    """Who the stand-in pretends to be."""

    bot_token: str = "xoxb-test"
    app_token: str = "xapp-test"
    team_id: str = "T0001"
    team_domain: str = "iris-test"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    app_id: str = "A0IRIS"
    default_tz: str = "Asia/Seoul"


@dataclass
class StoredMessage:
    """A message as the channel currently shows it; `edits` lists every chat.update applied, in order."""

    ts: str
    channel: str
    text: str
    blocks: list[Any] | None = None
    thread_ts: str | None = None
    user: str | None = None
    edits: list[Params] = field(default_factory=list)

    def copy(self) -> StoredMessage:
        return replace(self, edits=[dict(edit) for edit in self.edits])


@dataclass
class StoredFile:
    """A file announced by files.getUploadURLExternal; `data` is None until its bytes arrive."""

    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False
    shared_ts: str | None = None  # where the file appears among the channel's messages, once shared


@dataclass(frozen=True)
class Reader:
    """Who a response_url answers: the user and channel of the command or click that carried it."""

    channel: str
    user: str
    message_ts: str | None = None  # the clicked message, which replace_original edits
    thread_ts: str | None = None


@dataclass(frozen=True)
class Call:
    """One request the stand-in received and what it answered."""

    method: str
    params: Params
    headers: dict[str, str]
    status: int
    response: JsonOrText
    received_at: float
    path: str = ""

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and self.response.get("ok") is True


@dataclass(frozen=True)
class Failure:
    """A scripted answer that replaces the next real one."""

    status: int
    error: str | None = None
    retry_after: int = 1
    body: JsonOrText | None = None

    def answer(self) -> Answer:
        if self.status == 429:
            body = self.body or {"ok": False, "error": self.error or "ratelimited"}
            return 429, {"Retry-After": str(self.retry_after)}, body
        if self.status >= 500:
            return self.status, {}, self.body or status_text(self.status)
        return self.status, {}, self.body or {"ok": False, "error": self.error or "fatal_error"}


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)
