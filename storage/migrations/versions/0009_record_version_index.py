"""record_version: drop the index on record_id alone

The unique index on (record_id, version) starts with record_id and serves every lookup by
record; the second index only cost each stored version one more index entry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_version_record_id")


def downgrade() -> None:
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index("ix_record_version_record_id", ["record_id"], unique=False)
