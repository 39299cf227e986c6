"""Briefings and milestones, their firings and attendance answers.

Revision ID: 0004_briefings
Revises: 0003_checklists
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_briefings"
down_revision = "0003_checklists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "briefing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("leads", sa.String(255), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rule", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_briefing_status_next_fire_at", "briefing", ["status", "next_fire_at"])
    op.create_table(
        "briefing_firing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("briefing_id", sa.Integer(), sa.ForeignKey("briefing.id"), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurrence_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lead", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(32), nullable=True),
        sa.UniqueConstraint("briefing_id", "fire_at", name="uq_briefing_firing_briefing_id_fire_at"),
    )
    op.create_table(
        "briefing_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("briefing_id", sa.Integer(), sa.ForeignKey("briefing.id"), nullable=False),
        sa.Column("occurrence_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "briefing_id",
            "occurrence_at",
            "user_id",
            name="uq_briefing_answer_briefing_id_occurrence_at_user_id",
        ),
    )


def downgrade() -> None:
    op.drop_table("briefing_answer")
    op.drop_table("briefing_firing")
    op.drop_index("ix_briefing_status_next_fire_at", table_name="briefing")
    op.drop_table("briefing")
