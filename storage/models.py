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
        Index(
            "uq_rehearsal_running_scenario",
            "scenario",
            unique=True,
            sqlite_where=_RUNNING_ONLY,
            postgresql_where=_RUNNING_ONLY,
        ),
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


_ACTIVE_ONLY = text("undone_at IS NULL")


class ChecklistTemplate(SQLModel, table=True):
    """One version of a checklist template as it was loaded: kept whole, known by its content hash."""

    __tablename__ = "checklist_template"
    __table_args__ = (UniqueConstraint("name", "content_hash", name="uq_checklist_template_name_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: str = Field(max_length=32)
    content_hash: str = Field(max_length=64)
    item_count: int
    source: str = Field(sa_column=Column(Text, nullable=False))  # the Markdown: old versions stay comparable
    first_seen_at: datetime = Field(default_factory=utcnow)


class Checklist(SQLModel, table=True):
    """A release walked through one template version; `events` and `head_hash` end its trail."""

    __tablename__ = "checklist"
    __table_args__ = (Index("ix_checklist_channel_status", "channel_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklist_template.id")
    name: str = Field(max_length=64)
    version: str = Field(max_length=32)
    title: str = Field(max_length=255)
    release: str = Field(default="", max_length=120)
    channel_id: str = Field(max_length=32)
    message_id: int | None = None  # the outbox message showing it; no foreign key, the outbox is pruned
    status: str = Field(default="open", max_length=16)  # open | complete
    page: int = 0  # which page of a long checklist its message shows
    started_by: str = Field(max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=32)
    events: int = 0
    head_hash: str = Field(default="", max_length=64)


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("checklist_id", "position", name="uq_checklist_item_position"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    position: int
    section: str = Field(max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str | None = Field(default=None, max_length=64)  # a role name or a Slack user id
    approval: bool = False


class ChecklistSignoff(SQLModel, table=True):
    """A sign-off or an N/A of one item; an undo marks it undone and never deletes it."""

    __tablename__ = "checklist_signoff"
    __table_args__ = (
        # One standing sign-off per item, decided by the database: two simultaneous clicks, on two
        # replicas or one, cannot both insert.
        Index(
            "uq_checklist_signoff_active",
            "checklist_id",
            "position",
            unique=True,
            sqlite_where=_ACTIVE_ONLY,
            postgresql_where=_ACTIVE_ONLY,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    position: int
    kind: str = Field(max_length=8)  # sign | na
    user_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it is N/A
    undone_at: datetime | None = None
    undone_by: str | None = Field(default=None, max_length=32)


class ChecklistEvent(SQLModel, table=True):
    """The trail: append-only, each row carrying the hash of the one before it."""

    __tablename__ = "checklist_event"
    __table_args__ = (UniqueConstraint("checklist_id", "seq", name="uq_checklist_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    seq: int
    kind: str = Field(max_length=16)  # start | sign | na | note | undo | approve
    position: int | None = None
    actor: str = Field(max_length=32)
    at: datetime
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Briefing(SQLModel, table=True):
    """A briefing or milestone: one moment or a recurrence, its reminders and where they are posted."""

    __tablename__ = "briefing"
    __table_args__ = (Index("ix_briefing_status_next_fire_at", "status", "next_fire_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="briefing", max_length=16)  # briefing | milestone
    channel_id: str = Field(max_length=32)
    agenda: str = Field(default="", sa_column=Column(Text, nullable=False))
    attendees: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of user IDs
    leads: str = Field(default="[]", max_length=255)  # JSON list of seconds before each start
    zone: str = Field(max_length=64)  # the IANA zone the wall-clock times were given in
    starts_at: datetime | None = None  # a one-off briefing
    rule: str | None = Field(default=None, max_length=255)  # a recurring one: cron on the zone's clock
    status: str = Field(default="active", max_length=16)  # active | cancelled
    next_fire_at: datetime | None = None  # the earliest firing not yet claimed; None when none is left
    version: int = 1  # bumped by every edit, so a firing computed from an old schedule cannot move it
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class BriefingFiring(SQLModel, table=True):
    """One reminder or start message, claimed before it is posted: the unique key makes it exactly once."""

    __tablename__ = "briefing_firing"
    __table_args__ = (
        UniqueConstraint("briefing_id", "fire_at", name="uq_briefing_firing_briefing_id_fire_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id")
    fire_at: datetime
    occurrence_at: datetime
    lead: int  # seconds before the start; 0 is the start itself
    status: str = Field(max_length=16)  # posted | late | missed
    claimed_by: str = Field(default="", max_length=255)
    claimed_at: datetime = Field(default_factory=utcnow)
    message_id: int | None = None  # the outbox message; no foreign key, the outbox is pruned
    done_at: datetime | None = None  # `/iris brief done` for this occurrence (on its start firing)
    done_by: str | None = Field(default=None, max_length=32)


class BriefingAnswer(SQLModel, table=True):
    """Attending or not, per person and occurrence; the last click counts."""

    __tablename__ = "briefing_answer"
    __table_args__ = (
        UniqueConstraint(
            "briefing_id",
            "occurrence_at",
            "user_id",
            name="uq_briefing_answer_briefing_id_occurrence_at_user_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    briefing_id: int = Field(foreign_key="briefing.id")
    occurrence_at: datetime
    user_id: str = Field(max_length=32)
    answer: str = Field(max_length=16)  # attending | absent
    answered_at: datetime = Field(default_factory=utcnow)


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
