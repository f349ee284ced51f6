"""Due items: rows that become due at a time. Scheduling is idempotent by ``dedupe_key``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
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


def claim_due(session: Session, *, now: datetime, limit: int) -> list[DueItem]:
    """Lock up to ``limit`` due rows for this transaction (SKIP LOCKED on PostgreSQL)."""
    query = (
        select(DueItem)
        .where(DueItem.state == "pending", DueItem.due_at <= now)
        .order_by(DueItem.due_at, DueItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(query).scalars())


def mark_done(item: DueItem, *, now: datetime) -> None:
    item.state = "done"
    item.done_at = now
    item.last_error = None


def mark_done_many(session: Session, ids: list[int], *, now: datetime) -> None:
    """``mark_done`` for many claimed items with one statement per 900 ids (a batch of ten
    thousand reminders would otherwise flush ten thousand UPDATEs)."""
    for start in range(0, len(ids), 900):
        session.execute(
            update(DueItem)
            .where(DueItem.id.in_(ids[start : start + 900]))
            .values(state="done", done_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )


def postpone(item: DueItem, *, now: datetime, error: str, delay: timedelta = timedelta(minutes=5)) -> None:
    item.due_at = now + delay
    item.last_error = error[:2000]
