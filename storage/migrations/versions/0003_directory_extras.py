"""directory extras: the inspector's 可参与抽检 mark

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 05:08:45.407130

A unit decides who is in its draw pool (可参与抽检) separately from the certificate: staff with a
valid certificate may still be kept out (leaders, staff on long leave), and an import refuses the
mark on anyone whose certificate has expired. Existing inspectors start in the pool, which is what
the directory meant before this column existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspector", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignable", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("inspector", schema=None) as batch_op:
        batch_op.drop_column("assignable")
