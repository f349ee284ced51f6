"""Fewer index writes per state change: inspection records updated in place, two audit indexes
nobody reads dropped.

``ix_inspection_record_task`` on (task_id, state) becomes (task_id): a submission or review
changes ``state``, and a changed indexed column rules out PostgreSQL's in-place (HOT) update, so
each one added entries to all four indexes of the table. On PostgreSQL the table gets fillfactor
80, leaving room on each page for the new row versions of such updates (new pages only; a
``VACUUM FULL`` applies it to existing ones). ``ix_audit_event_at`` and
``ix_audit_event_actor_person_id`` served no query.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspection_record", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_record_task")
        batch_op.create_index("ix_inspection_record_task", ["task_id"], unique=False)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_at")
        batch_op.drop_index("ix_audit_event_actor_person_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inspection_record SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE inspection_record RESET (fillfactor)")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_actor_person_id", ["actor_person_id"], unique=False)
        batch_op.create_index("ix_audit_event_at", ["at"], unique=False)
    with op.batch_alter_table("inspection_record", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_record_task")
        batch_op.create_index("ix_inspection_record_task", ["task_id", "state"], unique=False)
