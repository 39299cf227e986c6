"""Release checklists: templates, checklists, items, sign-offs and the hash-chained trail.

Revision ID: 0003_checklists
Revises: 0002_rehearsals
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003_checklists"
down_revision = "0002_rehearsals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
