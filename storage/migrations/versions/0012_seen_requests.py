"""Slack requests already acted on, so that a replayed signed request does not act again.

Revision ID: 0012_seen_requests
Revises: 0011_length_hardening
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_seen_requests"
down_revision = "0011_length_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_request",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_seen_request_seen_at", "seen_request", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_request_seen_at", table_name="seen_request")
    op.drop_table("seen_request")
