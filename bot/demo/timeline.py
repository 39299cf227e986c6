"""What one person sees in one channel of the playground: messages, files, threads and their own
ephemerals, in order, each rendered from its Block Kit."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from bot.demo.blockkit import Viewer, mrkdwn_to_html, render_message
from bot.slack_standin.model import StoredFile, StoredMessage

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass
class Entry:
    """A line of the channel: a message, an ephemeral only its reader sees, or a shared file."""

    ts: str
    kind: str  # message | ephemeral | file
    html: Markup
    edited: bool = False
    replies: list[Entry] = field(default_factory=list)


def ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction or 0)


def channel_timeline(
    channel: str,
    user: str,
    messages: list[StoredMessage],
    ephemerals: list[StoredMessage],
    files: list[StoredFile],
    viewer: Viewer,
) -> list[Entry]:
    """Top-level entries oldest first, each with its thread replies (also oldest first)."""
    entries: list[tuple[str | None, Entry]] = []
    for message in messages:
        if message.channel == channel:
            html = render_message(message.text, message.blocks, viewer)
            entries.append((_parent(message), Entry(message.ts, "message", html, bool(message.edits))))
    for message in ephemerals:
        if message.channel == channel and message.user == user:
            html = render_message(message.text, message.blocks, viewer)
            entries.append((_parent(message), Entry(message.ts, "ephemeral", html)))
    for file in files:
        if file.channel == channel and file.completed and file.shared_ts:
            entries.append((file.thread_ts, Entry(file.shared_ts, "file", render_file(file, viewer))))
    entries.sort(key=lambda pair: ts_key(pair[1].ts))
    top = {entry.ts: entry for parent, entry in entries if parent is None}
    for parent, entry in entries:
        if parent is not None:
            host = top.get(parent)
            if host is None:  # a reply whose parent is gone (deleted): shown on its own, as Slack does
                top[entry.ts] = entry
            else:
                host.replies.append(entry)
    return sorted(top.values(), key=lambda entry: ts_key(entry.ts))


def _parent(message: StoredMessage) -> str | None:
    return message.thread_ts if message.thread_ts and message.thread_ts != message.ts else None


def render_file(file: StoredFile, viewer: Viewer) -> Markup:
    """An image inline, anything else as a download; the upload's comment above it."""
    comment = mrkdwn_to_html(file.initial_comment, viewer) if file.initial_comment else Markup("")
    kind = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
    href = f"/files/{file.id}"
    title = escape(file.title or file.filename)
    if kind in IMAGE_TYPES:
        body = Markup('<img class="file-image" src="{}" alt="{}">').format(href, title)
    else:
        size = len(file.data or b"")
        body = Markup(
            '<a class="file-download" href="{}" download="{}">📄 {} <small>{} bytes</small></a>'
        ).format(href, file.filename, title, size)
    return Markup('<div class="file-comment">{}</div><div class="file">{}</div>').format(comment, body)
