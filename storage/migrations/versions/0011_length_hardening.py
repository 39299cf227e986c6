"""Length hardening: the audit trail keeps a fingerprint of every value it had to cut to fit.

Revision ID: 0011_length_hardening
Revises: 0010_alert_hardening
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_length_hardening"
down_revision = "0010_alert_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("digests", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("digests")
