"""Due items: rows that become due at a time. Scheduling is idempotent by ``dedupe_key``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.idlists import id_in, slices
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
    """Lock up to ``limit`` due rows for this transaction (SKIP LOCKED on PostgreSQL).

    Returns plain rows (id, kind, ref, dedupe_key, due_at, payload): a tick may claim ten
    thousand, and ORM objects for all of them cost more than the reminders themselves. Use
    ``load`` for the few items a single-item handler changes.
    """
    table = DueItem.__table__
    query = (
        select(table.c.id, table.c.kind, table.c.ref, table.c.dedupe_key, table.c.due_at, table.c.payload)
        .where(table.c.state == "pending", table.c.due_at <= now)
        .order_by(table.c.due_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(query))


def load(session: Session, item_id: int) -> DueItem:
    """The ORM object of a claimed item (already locked by ``claim_due``)."""
    item = session.get(DueItem, item_id)
    assert item is not None
    return item


def mark_done(item: DueItem, *, now: datetime) -> None:
    item.state = "done"
    item.done_at = now
    item.last_error = None


def mark_done_many(session: Session, ids: list[int], *, now: datetime) -> None:
    """``mark_done`` for many claimed items with one statement per slice of ids (a batch of ten
    thousand reminders would otherwise flush ten thousand UPDATEs)."""
    for chunk in slices(session, ids):
        session.execute(
            update(DueItem)
            .where(id_in(session, DueItem.id, chunk))
            .values(state="done", done_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )


def postpone(item: DueItem, *, now: datetime, error: str, delay: timedelta = timedelta(minutes=5)) -> None:
    item.due_at = now + delay
    item.last_error = error[:2000]
