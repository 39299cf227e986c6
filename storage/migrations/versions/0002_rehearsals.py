"""Rehearsals: each rehearsal, its runs, and every attempt the fault proxy recorded.

Revision ID: 0002_rehearsals
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_rehearsals"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

RUNNING_ONLY = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        "rehearsal",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("runs_planned", sa.Integer(), nullable=False),
        sa.Column("runs_done", sa.Integer(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index(
        "uq_rehearsal_running_scenario",
        "rehearsal",
        ["scenario"],
        unique=True,
        sqlite_where=RUNNING_ONLY,
        postgresql_where=RUNNING_ONLY,
    )
    op.create_table(
        "rehearsal_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rehearsal_id", sa.String(32), sa.ForeignKey("rehearsal.id"), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("recovery", sa.Float(), nullable=True),
        sa.Column("faults_injected", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.UniqueConstraint("rehearsal_id", "run", name="uq_rehearsal_run_rehearsal_id_run"),
    )
    op.create_table(
        "rehearsal_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rehearsal_id", sa.String(32), sa.ForeignKey("rehearsal.id"), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("fault_id", sa.String(64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("injected", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("responded_at", sa.Float(), nullable=False),
        sa.Column("retry_after", sa.Float(), nullable=True),
        sa.Column("upstream_latency", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_rehearsal_attempt_rehearsal_id_run", "rehearsal_attempt", ["rehearsal_id", "run"])


def downgrade() -> None:
    op.drop_index("ix_rehearsal_attempt_rehearsal_id_run", table_name="rehearsal_attempt")
    op.drop_table("rehearsal_attempt")
    op.drop_table("rehearsal_run")
    op.drop_index("uq_rehearsal_running_scenario", table_name="rehearsal")
    op.drop_table("rehearsal")
