"""Alert groups, alerts, their state changes, acknowledgements and silences.

Revision ID: 0005_alerts
Revises: 0004_briefings
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_alerts"
down_revision = "0004_briefings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_group",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("receiver", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("group_labels", sa.Text(), nullable=False),
        sa.Column("common_labels", sa.Text(), nullable=False),
        sa.Column("external_url", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("mention", sa.String(32), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_by", sa.String(32), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("silence_id", sa.String(64), nullable=True),
        sa.Column("silenced_by", sa.String(32), nullable=True),
        sa.Column("silenced_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("source", "group_key", name="uq_alert_group_source_group_key"),
    )
    op.create_index("ix_alert_group_dirty", "alert_group", ["dirty"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("alert_group.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("annotations", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generator_url", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("group_id", "fingerprint", name="uq_alert_group_id_fingerprint"),
    )
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("alert_group.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_alert_event_group_id_id", "alert_event", ["group_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_event_group_id_id", table_name="alert_event")
    op.drop_table("alert_event")
    op.drop_table("alert")
    op.drop_index("ix_alert_group_dirty", table_name="alert_group")
    op.drop_table("alert_group")
