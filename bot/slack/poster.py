"""The outbox poster: claims lane heads, paces each channel, delivers, retries, never forgets."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.config import OutboxConfig
from bot.errors import log_crash
from bot.slack.api import Dead, Delivered, Outcome, Retry, SlackGateway
from storage import outbox as repo
from storage.clock import utcnow
from storage.db import read_scope, session_scope
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

METHOD_OF_KIND = {
    "post": "chat.postMessage",
    "update": "chat.update",
    "ephemeral": "chat.postEphemeral",
    "respond": "response_url",
    "upload": "files.upload",
}
PACED_KINDS = ("post", "upload")  # what appears as a new message in a channel
RECORD_RETRY_PAUSES = (0.0, 0.2, 1.0, 5.0)  # seconds between attempts to write an outcome down
EVERYTHING = "*"


@dataclass(frozen=True)
class PosterSettings:
    per_channel_per_second: float = 1.0
    burst: int = 3
    max_backoff_seconds: float = 300.0
    give_up_after: timedelta = timedelta(hours=24)
    workers: int = 4
    lease: timedelta = timedelta(seconds=60)
    poll_seconds: float = 0.5
    # Slack's per-workspace limits: chat.update is Tier 3 (about 50 a minute); a file takes
    # files.getUploadURLExternal and files.completeUploadExternal (Tier 4, 100+ a minute), kept to half.
    updates_per_minute: float = 50.0
    update_burst: int = 10
    files_per_minute: float = 50.0
    file_burst: int = 10

    def workspace_budget(self, kind: str) -> tuple[float, int] | None:
        """(per second, burst) of the workspace-wide limit this kind of message spends, if any."""
        if kind == "update":
            return self.updates_per_minute / 60, self.update_burst
        if kind == "upload":
            return self.files_per_minute / 60, self.file_burst
        return None

    @classmethod
    def from_config(cls, config: OutboxConfig) -> PosterSettings:
        return cls(
            per_channel_per_second=config.per_channel_per_second,
            burst=config.burst,
            max_backoff_seconds=config.max_backoff_seconds,
            give_up_after=timedelta(hours=config.give_up_after_hours),
            workers=config.workers,
        )


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


HISTORY_SECONDS = 60.0  # how far back the poster reads its sends to know a bucket's tokens


def bucket_tokens(sent: list[datetime], now: datetime, rate: float, burst: int, since: datetime) -> float:
    """The tokens left now in a bucket of `burst` refilled at `rate` per second, given every send
    since `since` (oldest first).

    A bucket is surely full after a quiet spell of burst/rate seconds, so the replay starts at the
    last such spell; with none in the history (sending at the limit all along) it starts from empty
    at `since`. Starting from full at the window's edge instead would believe in tokens Slack
    already spent, and a channel sent to at its pace would get 429s.
    """
    refill = timedelta(seconds=burst / rate)
    tokens, last = 0.0, since
    for moment in sent:
        if moment - last >= refill:
            tokens = float(burst)
        else:
            tokens = min(float(burst), tokens + (moment - last).total_seconds() * rate)
        tokens, last = tokens - 1, moment
    return min(float(burst), tokens + (now - last).total_seconds() * rate)


class Holds:
    """Sends held back by Slack: a 429 holds one channel (posts) or one method; a refused token, all."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}

    def hold(self, method: str, lane: str, until: datetime) -> None:
        self._until[(method, lane)] = max(until, self._until.get((method, lane), until))

    def held(self, method: str, lane: str, now: datetime) -> bool:
        keys = ((EVERYTHING, EVERYTHING), (method, EVERYTHING), (method, lane))
        return any(self._until.get(key, now) > now for key in keys)


class OutboxPoster:
    def __init__(
        self,
        engine: Engine,
        gateway: SlackGateway,
        settings: PosterSettings | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
    ) -> None:
        self._engine = engine
        self._gateway = gateway
        self._settings = settings or PosterSettings()
        self._clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.holds = Holds()
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(self._settings.workers, thread_name_prefix="iris-poster")

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Drain until stopped; while the database is away, back off and log once, not every pass."""
        failures = 0
        while not stop.is_set():
            try:
                busy = self.drain_once() > 0
            except Exception:
                failures += 1
                self._report_failure(failures)
                busy = False
            else:
                if failures:
                    log.info("outbox delivery resumed after %d failed passes", failures)
                failures = 0
            if not busy:  # after a productive pass, look again at once: more may be due
                self._wake.wait(min(30.0, self._settings.poll_seconds * 2**failures))
                self._wake.clear()

    def _report_failure(self, failures: int) -> None:
        if failures == 1 or failures % 100 == 0:
            log_crash(log, f"outbox pass ({failures} in a row; retrying with back-off)")

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
        # Choosing reads many rows; on SQLite, doing it under the write lock made every webhook and
        # command wait for each pass. Only reclaiming and the short claim (which re-checks each
        # choice, since another poller may have read the same heads) take it.
        with read_scope(self._engine) as session:
            expired = repo.has_expired_leases(session, now)
        if expired:
            with session_scope(self._engine) as session:
                repo.reclaim_expired(session, now)
        with read_scope(self._engine) as session:
            chosen = self._choose(session, now)
        if not chosen:
            return []
        with session_scope(self._engine) as session:
            ids = repo.claim(
                session, [m.id for m in chosen if m.id is not None], self.worker_id, now, self._settings.lease
            )
            return repo.get_many(session, ids)  # as claimed: attempts and lease are the claim's

    def _choose(self, session: Session, now: datetime) -> list[OutboxMessage]:
        """Up to one message per worker, most urgent first (lane heads come in (priority, id) order),
        paging past lanes that are paced or held; the workspace-wide budgets go to the first."""
        chosen: list[OutboxMessage] = []
        budgets: dict[str, float] = {}  # tokens left this pass, per kind with a workspace-wide budget
        after = repo.START
        while len(chosen) < self._settings.workers:
            page = repo.lane_heads(session, now, after=after)
            if not page:
                break
            for message in page:
                if len(chosen) < self._settings.workers and self._may_send(session, message, now, budgets):
                    chosen.append(message)
                    if message.kind in budgets:
                        budgets[message.kind] -= 1
            after = (page[-1].priority, page[-1].id or 0)
        return chosen

    def _may_send(
        self, session: Session, message: OutboxMessage, now: datetime, budgets: dict[str, float]
    ) -> bool:
        if self.holds.held(METHOD_OF_KIND[message.kind], message.lane, now):
            return False
        since = now - timedelta(seconds=HISTORY_SECONDS)
        budget = self._settings.workspace_budget(message.kind)
        if budget is not None:
            if message.kind not in budgets:  # read once a pass: the workspace's sends of this kind
                recent = repo.sent_since(session, None, (message.kind,), since)
                budgets[message.kind] = bucket_tokens(recent, now, *budget, since)
            if budgets[message.kind] < 1:
                return False
        if message.kind not in PACED_KINDS:
            return True
        rate, burst = self._settings.per_channel_per_second, self._settings.burst
        recent = repo.sent_since(session, message.lane, PACED_KINDS, since)
        return bucket_tokens(recent, now, rate, burst, since) >= 1

    def _deliver(self, message: OutboxMessage) -> None:
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
        if parent.kind == "upload":
            return Dead(reason=f"outbox {parent.id} is a file upload, which has no message ts to refer to")
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
        """Write the outcome down, trying again if the database hiccups.

        Slack has already acted on a Delivered outcome; losing it would make the lease expire and
        the message go out a second time.
        """
        for pause in RECORD_RETRY_PAUSES:
            time.sleep(pause)
            try:
                with session_scope(self._engine) as session:
                    if not self._write_outcome(session, message, outcome):
                        log.warning("outbox %s: claim lost before its outcome was recorded", message.id)
                return
            except SQLAlchemyError:
                log.warning("outbox %s: could not record the outcome yet", message.id, exc_info=True)
        log.error(
            "outbox %s: outcome %r not recorded; it will be retried after its lease", message.id, outcome
        )

    def _write_outcome(self, session: Session, message: OutboxMessage, outcome: Outcome) -> bool:
        assert message.id is not None
        now = self._clock()
        if isinstance(outcome, Delivered):
            return repo.mark_sent(
                session,
                message.id,
                self.worker_id,
                channel=outcome.channel,
                ts=outcome.ts,
                file_id=outcome.file_id,
                at=now,
            )
        if isinstance(outcome, Dead):
            log.warning("outbox message %s is dead: %s", message.id, outcome.reason)
            return repo.mark_dead(session, message.id, self.worker_id, outcome.reason)
        if self._gave_up(message, outcome, now):
            reason = f"gave up after {message.attempts} attempts: {outcome.reason}"
            log.warning("outbox message %s is dead: %s", message.id, reason)
            return repo.mark_dead(session, message.id, self.worker_id, reason)
        return repo.mark_retry(
            session,
            message.id,
            self.worker_id,
            at=self._retry_at(message, outcome, now),
            reason=outcome.reason,
            now=now,
        )

    def _gave_up(self, message: OutboxMessage, outcome: Retry, now: datetime) -> bool:
        """Only failures that say something about the message count; waiting on Slack's limits does not."""
        if outcome.rate_limited or outcome.auth_failed or message.failing_since is None:
            return False
        return now - message.failing_since > self._settings.give_up_after

    def _retry_at(self, message: OutboxMessage, outcome: Retry, now: datetime) -> datetime:
        if outcome.after_seconds is not None:
            delay = outcome.after_seconds
        else:
            delay = min(self._settings.max_backoff_seconds, 2.0 ** max(0, message.attempts - 1))
        at = now + timedelta(seconds=delay)
        method = METHOD_OF_KIND[message.kind]
        if outcome.auth_failed:
            self.holds.hold(EVERYTHING, EVERYTHING, at)
            log.error("Slack refused the bot token: holding every message until %s", at.isoformat())
        elif outcome.rate_limited:
            # chat.postMessage is limited per channel; other methods per workspace.
            self.holds.hold(method, message.lane if message.kind in PACED_KINDS else EVERYTHING, at)
        return at
