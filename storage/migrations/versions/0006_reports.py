"""The daily report: the team's notes for a day, and each day's scheduled post.

Revision ID: 0006_reports
Revises: 0005_alerts
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("author", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_report_note_day", "report_note", ["day"])
    op.create_table(
        "report_post",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("day", name="uq_report_post_day"),
    )


def downgrade() -> None:
    op.drop_table("report_post")
    op.drop_index("ix_report_note_day", table_name="report_note")
    op.drop_table("report_note")
