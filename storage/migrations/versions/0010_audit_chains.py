"""Audit chains: events name their chain; PostgreSQL gets the guard function for writes sent
without waiting for their answer.

``audit_event.chain_id`` (1 for every existing row, which is how the single chain continues as
chain 1). ``chayici_expect_one(touched, what)`` raises SQLSTATE CY001 unless ``touched`` is 1: a
guarded write (``storage.raw.send_expecting_one``) fails its transaction on the server instead
of the client reading its row count before the commit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_id", sa.Integer(), server_default="1", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION chayici_expect_one(touched bigint, what text) RETURNS boolean "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF touched IS DISTINCT FROM 1 THEN "
            "RAISE EXCEPTION '% was changed by another transaction', what USING ERRCODE = 'CY001'; "
            "END IF; RETURN true; END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS chayici_expect_one(bigint, text)")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("chain_id")
