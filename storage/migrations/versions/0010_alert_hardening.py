"""Alert groups found by a hash of their key, and the alerts of a group too large to store, counted.

A group key holds the group's labels and has no length limit; PostgreSQL's btree index refuses an
entry over about 2.7 kB, so the unique index moves from the key to its SHA-256. A group keeps at
most a thousand alerts as rows; how many more its last notification held, firing and resolved, is
kept on the group.

Revision ID: 0010_alert_hardening
Revises: 0009_report_indexes
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010_alert_hardening"
down_revision = "0009_report_indexes"
branch_labels = None
depends_on = None

GROUP = sa.table(
    "alert_group",
    sa.column("id", sa.Integer()),
    sa.column("group_key", sa.Text()),
    sa.column("group_key_hash", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("alert_group") as batch:
        batch.add_column(sa.Column("group_key_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("omitted_firing", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("omitted_resolved", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    for group_id, group_key in connection.execute(sa.select(GROUP.c.id, GROUP.c.group_key)).all():
        digest = hashlib.sha256(group_key.encode("utf-8", "surrogatepass")).hexdigest()
        connection.execute(GROUP.update().where(GROUP.c.id == group_id).values(group_key_hash=digest))
    with op.batch_alter_table("alert_group") as batch:
        batch.alter_column("group_key_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("omitted_firing", existing_type=sa.Integer(), server_default=None)
        batch.alter_column("omitted_resolved", existing_type=sa.Integer(), server_default=None)
        batch.drop_constraint("uq_alert_group_source_group_key", type_="unique")
        batch.create_unique_constraint("uq_alert_group_source_group_key_hash", ["source", "group_key_hash"])


def downgrade() -> None:
    with op.batch_alter_table("alert_group") as batch:
        batch.drop_constraint("uq_alert_group_source_group_key_hash", type_="unique")
        batch.create_unique_constraint("uq_alert_group_source_group_key", ["source", "group_key"])
        batch.drop_column("omitted_resolved")
        batch.drop_column("omitted_firing")
        batch.drop_column("group_key_hash")
