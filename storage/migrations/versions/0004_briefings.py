"""Briefings and milestones, their firings and attendance answers.

Revision ID: 0004_briefings
Revises: 0003_checklists
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_briefings"
down_revision = "0003_checklists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
