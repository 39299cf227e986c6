"""The outbox poster: claims lane heads, paces each channel, delivers, retries, never forgets."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.config import OutboxConfig
from bot.errors import log_crash
from bot.slack_api import Dead, Delivered, Outcome, Retry, SlackGateway
from storage import outbox as repo
from storage.clock import utcnow
from storage.db import session_scope
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

METHOD_OF_KIND = {
    "post": "chat.postMessage",
    "update": "chat.update",
    "ephemeral": "chat.postEphemeral",
    "respond": "response_url",
    "upload": "files.upload",
}
PACED_KINDS = frozenset({"post", "upload"})  # what appears as a new message in a channel


@dataclass(frozen=True)
class PosterSettings:
    per_channel_per_second: float = 1.0
    burst: int = 3
    max_backoff_seconds: float = 300.0
    give_up_after: timedelta = timedelta(hours=24)
    workers: int = 4
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 0.5

    @classmethod
    def from_config(cls, config: OutboxConfig) -> PosterSettings:
        return cls(per_channel_per_second=config.per_channel_per_second, burst=config.burst,
                   max_backoff_seconds=config.max_backoff_seconds,
                   give_up_after=timedelta(hours=config.give_up_after_hours), workers=config.workers)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class OutboxPoster:
    def __init__(self, engine: Engine, gateway: SlackGateway, settings: PosterSettings | None = None, *,
                 clock: Callable[[], datetime] = utcnow, worker_id: str | None = None) -> None:
        self._engine = engine
        self._gateway = gateway
        self._settings = settings or PosterSettings()
        self._clock = clock
        self.worker_id = worker_id or default_worker_id()
        self._paused_until: dict[str, datetime] = {}
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(self._settings.workers, thread_name_prefix="iris-poster")

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Drain until stopped; a failing pass is logged and the next one tries again."""
        while not stop.is_set():
            try:
                busy = self.drain_once() > 0
            except Exception:
                log_crash(log, "outbox pass")
                busy = False
            if not busy:  # after a productive pass, look again at once: more may be due
                self._wake.wait(self._settings.poll_seconds)
                self._wake.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with session_scope(self._engine) as session:
            released = repo.release(session, self.worker_id)
        if released:
            log.info("handed %d in-flight outbox messages back", released)

    def drain_once(self) -> int:
        """One pass: claim what may go now, deliver it concurrently, record every outcome."""
        claimed = self._claim(self._clock())
        list(self._pool.map(self._deliver, claimed))
        return len(claimed)

    def _claim(self, now: datetime) -> list[OutboxMessage]:
        with session_scope(self._engine) as session:
            repo.reclaim_expired(session, now)
            chosen = [m for m in repo.lane_heads(session, now) if self._may_send(session, m, now)]
            chosen = chosen[: self._settings.workers * 2]
            ids = repo.claim(session, [m.id for m in chosen if m.id is not None], self.worker_id, now,
                             self._settings.lease)
        return [m for m in chosen if m.id in ids]

    def _may_send(self, session: Any, message: OutboxMessage, now: datetime) -> bool:
        paused = self._paused_until.get(METHOD_OF_KIND[message.kind])
        if paused is not None and paused > now:
            return False
        if message.kind not in PACED_KINDS:
            return True
        window = timedelta(seconds=self._settings.burst / self._settings.per_channel_per_second)
        recent = repo.sent_since(session, message.lane, message.kind, now - window)
        return len(recent) < self._settings.burst

    def _deliver(self, message: OutboxMessage) -> None:
        assert message.id is not None
        try:
            outcome = self._attempt(message)
        except Exception:
            reference = log_crash(log, f"delivering outbox message {message.id}")
            outcome = Retry(reason=f"internal error, ref {reference}")
        self._record(message, outcome)

    def _attempt(self, message: OutboxMessage) -> Outcome:
        payload = json.loads(message.payload)
        if message.ref_id is not None:
            waiting = self._resolve_reference(message, payload)
            if waiting is not None:
                return waiting
        return self._send(message.kind, payload)

    def _resolve_reference(self, message: OutboxMessage, payload: dict[str, Any]) -> Outcome | None:
        """Fill in the ts of the message this one edits or threads under, once that one is sent."""
        with session_scope(self._engine) as session:
            parent = repo.get(session, message.ref_id) if message.ref_id else None
        if parent is None or parent.status == repo.DEAD:
            return Dead(reason=f"the message it refers to (outbox {message.ref_id}) was never delivered")
        if parent.status != repo.SENT:
            return Retry(reason=f"waiting for outbox {parent.id}", after_seconds=1.0)
        payload["channel"] = parent.slack_channel or payload.get("channel")
        payload["ts" if message.kind == "update" else "thread_ts"] = parent.slack_ts
        return None

    def _send(self, kind: str, payload: dict[str, Any]) -> Outcome:
        if kind == "respond":
            return self._gateway.respond(payload["url"], payload["body"])
        if kind == "upload":
            return self._gateway.upload(**payload)
        return self._gateway.call(METHOD_OF_KIND[kind], **payload)

    def _record(self, message: OutboxMessage, outcome: Outcome) -> None:
        assert message.id is not None
        now = self._clock()
        with session_scope(self._engine) as session:
            if isinstance(outcome, Delivered):
                repo.mark_sent(session, message.id, channel=outcome.channel, ts=outcome.ts, at=now)
            elif isinstance(outcome, Dead):
                log.warning("outbox message %s is dead: %s", message.id, outcome.reason)
                repo.mark_dead(session, message.id, outcome.reason)
            elif now - message.created_at > self._settings.give_up_after:
                repo.mark_dead(session, message.id, f"gave up after {message.attempts} attempts: "
                                                    f"{outcome.reason}")
            else:
                repo.mark_retry(session, message.id, at=self._retry_at(message, outcome, now),
                                reason=outcome.reason)

    def _retry_at(self, message: OutboxMessage, outcome: Retry, now: datetime) -> datetime:
        if outcome.after_seconds is not None:
            delay = outcome.after_seconds
        else:
            delay = min(self._settings.max_backoff_seconds, 2.0 ** max(0, message.attempts - 1))
        at = now + timedelta(seconds=delay)
        if outcome.rate_limited:
            # Slack limits per method and workspace: hold every message of this kind, not just this one.
            self._paused_until[METHOD_OF_KIND[message.kind]] = at
        return at
