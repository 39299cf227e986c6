"""Outbox indexes the storm's queries can seek in: each lane's head among the pending messages
(status first, so the lanes with pending messages are read from the index alone), and a group's
last file sent (by its parent message, not by every file of its kind).

Revision ID: 0015_outbox_indexes
Revises: 0014_alert_pull
"""

from alembic import op

revision = "0015_outbox_indexes"
down_revision = "0014_alert_pull"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_message_lane_priority", table_name="outbox_message")
    op.create_index(
        "ix_outbox_message_status_lane_priority", "outbox_message", ["status", "lane", "priority", "id"]
    )
    op.drop_index("ix_outbox_message_ref_id", table_name="outbox_message")
    op.create_index(
        "ix_outbox_message_ref_id_kind", "outbox_message", ["ref_id", "kind", "status", "sent_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_message_ref_id_kind", table_name="outbox_message")
    op.create_index("ix_outbox_message_ref_id", "outbox_message", ["ref_id"])
    op.drop_index("ix_outbox_message_status_lane_priority", table_name="outbox_message")
    op.create_index("ix_outbox_message_lane_priority", "outbox_message", ["lane", "status", "priority", "id"])
