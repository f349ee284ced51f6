"""Due items: rows that become due at a time. Scheduling is idempotent by ``dedupe_key``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import any_, func, select, update
from sqlalchemy.orm import Session

from storage.models.platform import DueItem
from storage.upsert import insert_ignore


def schedule(
    session: Session,
    *,
    kind: str,
    ref: str,
    due_at: datetime,
    dedupe_key: str,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a due item unless one with this key exists. Returns True when added."""
    return insert_ignore(
        session,
        DueItem,
        {
            "kind": kind,
            "ref": ref,
            "dedupe_key": dedupe_key,
            "due_at": due_at,
            "payload": payload or {},
            "state": "pending",
        },
        conflict_column="dedupe_key",
    )


def cancel(session: Session, *, ref: str, kinds: tuple[str, ...] | None = None, now: datetime) -> int:
    """Cancel pending items for ``ref`` (e.g. reminders of a task that was answered)."""
    query = update(DueItem).where(DueItem.ref == ref, DueItem.state == "pending")
    if kinds:
        query = query.where(DueItem.kind.in_(kinds))
    return session.execute(query.values(state="cancelled", done_at=now)).rowcount


def claim_due(session: Session, *, now: datetime, limit: int) -> list[Any]:
    """Take up to ``limit`` due rows for this transaction, marking them done in the same statement.

    One ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` both claims and
    completes: a separate lock pass and a later "done" pass would each touch every row again (on
    PostgreSQL a row lock is itself a write). If the transaction rolls back, so does the claim; an
    item whose handler fails is put back with ``postpone``.

    Returns plain rows (id, kind, ref, dedupe_key, due_at, payload) in due order: a tick may claim
    ten thousand, and ORM objects for all of them cost more than the reminders themselves.
    """
    table = DueItem.__table__
    chosen = (
        select(table.c.id)
        .where(table.c.state == "pending", table.c.due_at <= now)
        .order_by(table.c.due_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        # ``= ANY(ARRAY(subquery))``: with a plain ``IN (subquery)`` PostgreSQL hash-joins the
        # chosen ids against a scan of the whole table, so the cost would follow all rows.
        match = table.c.id == any_(func.array(chosen.scalar_subquery()))
    else:
        match = table.c.id.in_(chosen.scalar_subquery())
    claimed = (
        update(table)
        .where(match)
        .values(state="done", done_at=now, last_error=None)
        .returning(table.c.id, table.c.kind, table.c.ref, table.c.dedupe_key, table.c.due_at, table.c.payload)
    )
    return sorted(session.execute(claimed), key=lambda row: (row.due_at, row.id))


def postpone(
    session: Session, item_id: int, *, now: datetime, error: str, delay: timedelta = timedelta(minutes=5)
) -> None:
    """Put a claimed item back as pending, due again after ``delay``, with the error that stopped it."""
    session.execute(
        update(DueItem)
        .where(DueItem.id == item_id)
        .values(state="pending", done_at=None, due_at=now + delay, last_error=error[:2000])
        .execution_options(synchronize_session="fetch")
    )
