"""Alert groups, alerts, their state changes, acknowledgements and silences.

Revision ID: 0005_alerts
Revises: 0004_briefings
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_alerts"
down_revision = "0004_briefings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
