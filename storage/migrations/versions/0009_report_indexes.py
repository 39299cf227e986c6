"""Indexes for the day's report: it reads one day out of tables that keep growing.

Without them each of the report's day queries scans its whole table; on SQLite, a month of history
at 200 rehearsals and 2,000 alert groups a day took a report to a second (bench/report.py).

Revision ID: 0009_report_indexes
Revises: 0008_template_changes
"""

from alembic import op

revision = "0009_report_indexes"
down_revision = "0008_template_changes"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_rehearsal_started_at", "rehearsal", ["started_at"]),
    ("ix_alert_event_at", "alert_event", ["at"]),
    ("ix_outbox_message_kind_source_created_at", "outbox_message", ["kind", "source", "created_at"]),
    ("ix_outbox_message_ref_id", "outbox_message", ["ref_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
