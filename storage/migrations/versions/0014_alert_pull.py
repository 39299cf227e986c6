"""The Alertmanager poll (alerts.pull): its lease across replicas and its last outcome.

Revision ID: 0014_alert_pull
Revises: 0013_outbox_priority
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_alert_pull"
down_revision = "0013_outbox_priority"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_pull",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("alert_pull")
