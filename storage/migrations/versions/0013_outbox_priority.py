"""Outbox priorities and coalescing: a new incident's first post goes ahead of thread chatter and
files in its channel's lane, and waiting replies, uploads and edits of one message merge.

Revision ID: 0013_outbox_priority
Revises: 0012_seen_requests
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_outbox_priority"
down_revision = "0012_seen_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="50"))
        batch.add_column(sa.Column("merge_state", sa.Text(), nullable=True))
    op.create_index("ix_outbox_message_lane_priority", "outbox_message", ["lane", "status", "priority", "id"])
    op.create_index("ix_outbox_message_kind_sent_at", "outbox_message", ["kind", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_kind_sent_at", table_name="outbox_message")
    op.drop_index("ix_outbox_message_lane_priority", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("merge_state")
        batch.drop_column("priority")
