"""What each checklist template version changed since the one before it, for the day's report.

Revision ID: 0008_template_changes
Revises: 0007_alert_test_runs
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_template_changes"
down_revision = "0007_alert_test_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checklist_template") as batch:
        batch.add_column(sa.Column("changes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checklist_template") as batch:
        batch.drop_column("changes")
