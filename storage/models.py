"""SQLModel tables: the database is the source of truth for everything IRIS must not lose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.clock import utcnow


class OutboxMessage(SQLModel, table=True):
    """One thing to send to Slack: a post, an edit, an ephemeral, a response_url reply or a file."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_message_dedupe_key"),
        Index("ix_outbox_message_lane_status", "lane", "status", "id"),
        Index("ix_outbox_message_status_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lane: str = Field(max_length=255, description="ordering key: the channel, or one response_url")
    kind: str = Field(max_length=16)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    ref_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    dedupe_key: str | None = Field(default=None, max_length=255)
    source: str = Field(default="", max_length=64)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    failing_since: datetime | None = None  # first transient failure since the last success or requeue
    sent_at: datetime | None = None
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)
    slack_file_id: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuditEvent(SQLModel, table=True):
    """An append-only record of a state-changing action, including refusals."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=255)
    outcome: str = Field(default="ok", max_length=16)
    team_id: str | None = Field(default=None, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))


_RUNNING_ONLY = text("status = 'running'")


class Rehearsal(SQLModel, table=True):
    """One rehearsal of a scenario: how many runs, who started it, and how it ended."""

    __tablename__ = "rehearsal"
    __table_args__ = (
        # One running rehearsal per scenario, decided by the database so two concurrent starts
        # (two replicas, a double click) cannot both win.
        Index("uq_rehearsal_running_scenario", "scenario", unique=True,
              sqlite_where=_RUNNING_ONLY, postgresql_where=_RUNNING_ONLY),
    )

    id: str = Field(primary_key=True, max_length=32)
    scenario: str = Field(max_length=64)
    status: str = Field(default="running", max_length=16)  # running|completed|failed|aborted|interrupted
    verdict: str | None = Field(default=None, max_length=16)  # pass|fail|inconclusive, None until known
    runs_planned: int
    runs_done: int = 0
    dry_run: bool = False
    started_by: str | None = Field(default=None, max_length=32)  # a Slack user id, or "cli"
    channel_id: str | None = Field(default=None, max_length=32)
    owner: str = Field(default="", max_length=255)  # the host running it; only that host can clean it up
    message_id: int | None = None  # the outbox message showing it; no foreign key, the outbox is pruned
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # the result, no journal
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it ended early


class RehearsalRun(SQLModel, table=True):
    """One run of a rehearsal as the analysis judged it."""

    __tablename__ = "rehearsal_run"
    __table_args__ = (UniqueConstraint("rehearsal_id", "run", name="uq_rehearsal_run_rehearsal_id_run"),)

    id: int | None = Field(default=None, primary_key=True)
    rehearsal_id: str = Field(foreign_key="rehearsal.id", max_length=32)
    run: int
    outcome: str = Field(max_length=16)  # recovered | failed | timeout
    exit_code: int | None = None
    recovery: float | None = None  # seconds
    faults_injected: int = 0
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of sentences
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON RunResult, with gaps


class RehearsalAttempt(SQLModel, table=True):
    """One request through the fault proxy: a ledger entry, kept as the evidence behind a verdict."""

    __tablename__ = "rehearsal_attempt"
    __table_args__ = (Index("ix_rehearsal_attempt_rehearsal_id_run", "rehearsal_id", "run"),)

    id: int | None = Field(default=None, primary_key=True)
    rehearsal_id: str = Field(foreign_key="rehearsal.id", max_length=32)
    run: int
    fault_id: str | None = Field(default=None, max_length=64)
    attempt: int | None = None
    # Whatever the target sent: neither is bounded by the proxy, so neither is bounded here.
    method: str = Field(sa_column=Column(Text, nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    status: int
    injected: bool
    received_at: float  # time.monotonic() of the proxy process
    responded_at: float
    retry_after: float | None = None
    upstream_latency: float | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


# -- Alerts: groups from Alertmanager and Grafana, their alerts and every state change -------------


class AlertGroup(SQLModel, table=True):
    """One alert group as its source names it (source, groupKey), and the Slack message showing it."""

    __tablename__ = "alert_group"
    __table_args__ = (
        UniqueConstraint("source", "group_key", name="uq_alert_group_source_group_key"),
        Index("ix_alert_group_dirty", "dirty"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)  # alertmanager | grafana
    group_key: str = Field(sa_column=Column(Text, nullable=False))
    receiver: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="firing", max_length=16)  # firing | resolved
    group_labels: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    common_labels: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    external_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    channel: str = Field(max_length=32)
    mention: str | None = Field(default=None, max_length=32)
    message_id: int | None = None  # the outbox post showing it; no foreign key, the outbox is pruned
    dirty: bool = True  # changed since Slack was last told; the notifier clears it
    version: int = 0  # bumped by every change, so the notifier only clears what it rendered
    truncated: int = 0  # alerts the source left out of its last notification
    first_seen: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    acked_by: str | None = Field(default=None, max_length=32)
    acked_at: datetime | None = None
    silence_id: str | None = Field(default=None, max_length=64)
    silenced_by: str | None = Field(default=None, max_length=32)
    silenced_until: datetime | None = None


class Alert(SQLModel, table=True):
    """One alert of a group, by fingerprint, as last reported."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint", name="uq_alert_group_id_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alert_group.id")
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=16)  # firing | resolved
    labels: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    annotations: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class AlertEvent(SQLModel, table=True):
    """A state change of one alert (fired, joined, resolved, re-fired) or of the group, with its time."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_group_id_id", "group_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alert_group.id")
    fingerprint: str | None = Field(default=None, max_length=64)  # None for the group's own changes
    kind: str = Field(max_length=16)  # fired | joined | resolved | refired | acked | silenced | unsilenced
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))  # alertname, or who did it
    at: datetime = Field(default_factory=utcnow)
    notified: bool = False  # told in Slack (a thread reply) yet
