"""Each `/iris alert-test` run and its cases' outcomes, so the day's report can count them.

Revision ID: 0007_alert_test_runs
Revises: 0006_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_alert_test_runs"
down_revision = "0006_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_test_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.UniqueConstraint("run_id", name="uq_alert_test_run_run_id"),
    )
    op.create_index("ix_alert_test_run_started_at", "alert_test_run", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_test_run_started_at", table_name="alert_test_run")
    op.drop_table("alert_test_run")
