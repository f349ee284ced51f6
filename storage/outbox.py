"""Outbox queries: enqueue, coalesce, claim with a lease and rate limits, complete with a fence.

The claim is one statement family on both databases. On PostgreSQL the candidate rows are
locked with ``FOR UPDATE SKIP LOCKED`` so two workers never claim the same row; SQLite drops that
clause and relies on ``BEGIN IMMEDIATE`` (one writer at a time) instead.

Rate limits are sliding windows kept in ``rate_event``: a claim reserves one event per key of
the row; an unstarted reservation always counts, a started one counts while it is inside the
window. Several workers therefore share one quota exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from storage.base import canonical_json
from storage.bulk import insert_rows
from storage.models.platform import OutboxMessage, RateEvent
from storage.raw import Direct
from storage.upsert import insert_ignore, send_ignore

RateLookup = Callable[[str], tuple[int, float] | None]


def enqueue(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
    rate_keys: Iterable[str] = (),
    coalesce_key: str | None = None,
    max_attempts: int = 8,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message. Returns False when a row with this dedupe key already exists."""
    if coalesce_key:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.coalesce_key == coalesce_key, OutboxMessage.state == "pending")
            .values(state="superseded", last_error="被更新的卡片状态取代")
        )
    return insert_ignore(
        session,
        OutboxMessage,
        _values(kind, dedupe_key, payload, now, rate_keys, coalesce_key, max_attempts, not_before),
        conflict_column="dedupe_key",
    )


def _values(
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    now: datetime,
    rate_keys: Iterable[str],
    coalesce_key: str | None,
    max_attempts: int,
    not_before: datetime | None,
) -> dict[str, Any]:
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "payload": payload,
        "state": "pending",
        "rate_keys": ",".join(sorted(set(rate_keys))),
        "coalesce_key": coalesce_key,
        "attempts": 0,
        "max_attempts": max_attempts,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }


def send_new(session: Session | Direct, rows: Sequence[Pending], *, now: datetime, max_attempts: int) -> None:
    """Queue new messages (``Context.defer_outbox``'s) without waiting for the database's answer:
    in a ``Database.direct`` write on PostgreSQL they travel with the commit. Rows whose dedupe
    key exists are skipped, as by ``enqueue``."""
    for row in rows:
        values = _values(row.kind, row.dedupe_key, row.payload, now, row.rate_keys, None, max_attempts, None)
        send_ignore(session, OutboxMessage, values, conflict_column="dedupe_key")


@dataclass(frozen=True)
class Pending:
    """One row for ``enqueue_many``."""

    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    rate_keys: Sequence[str] = ()


# Columns of ``enqueue_many`` rows (values in driver form) and of the values common to a batch.
MANY_COLUMNS = ("dedupe_key", "kind", "payload", "rate_keys")
MANY_CONSTANTS = ("state", "attempts", "max_attempts", "next_attempt_at", "created_at")


def many_rows(rows: Sequence[Pending]) -> list[tuple[str, str, str, str]]:
    return [
        (row.dedupe_key, row.kind, canonical_json(row.payload), ",".join(sorted(set(row.rate_keys))))
        for row in rows
    ]


def many_constants(now: datetime, max_attempts: int) -> dict[str, Any]:
    """The ``MANY_CONSTANTS`` of a batch, in that order (ORM values)."""
    return dict(zip(MANY_CONSTANTS, ("pending", 0, max_attempts, now, now), strict=True))


def enqueue_many(session: Session, rows: Sequence[Pending], *, now: datetime, max_attempts: int = 8) -> int:
    """Queue many messages with one statement; rows whose dedupe key exists are skipped.

    No coalescing: for new rows (cards created in one event, reminders of one tick), where there
    is nothing to coalesce. Returns how many were queued.
    """
    return insert_rows(
        session,
        OutboxMessage.__table__,
        MANY_COLUMNS,
        many_rows(rows),
        constants=many_constants(now, max_attempts),
        skip_conflicts_on="dedupe_key",
    )


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    dedupe_key: str


def _split_keys(value: str) -> list[str]:
    return [key for key in value.split(",") if key]


def _family(key: str) -> str:
    return key.split(":", 2)[0] if not key.startswith("api:") else ":".join(key.split(":", 2)[:2])


def claim(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    rates: RateLookup,
    postgres: bool,
) -> tuple[list[Claimed], datetime | None]:
    """Claim up to ``limit`` due rows. Returns the rows and, if some were held back by a rate
    limit, the earliest time one of them may go."""
    running_coalesce = (
        select(OutboxMessage.coalesce_key)
        .where(OutboxMessage.state == "running", OutboxMessage.locked_until >= now)
        .where(OutboxMessage.coalesce_key.is_not(None))
    )
    due = or_(
        and_(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == "running", OutboxMessage.locked_until < now),
    )
    query = (
        select(OutboxMessage)
        .where(due)
        .where(or_(OutboxMessage.coalesce_key.is_(None), OutboxMessage.coalesce_key.not_in(running_coalesce)))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit * 3)
        .with_for_update(skip_locked=True)
    )
    candidates = list(session.execute(query).scalars())
    if not candidates:
        return [], None

    capacity: dict[str, int] = {}
    free_at: dict[str, datetime] = {}
    for key in sorted({k for row in candidates for k in _split_keys(row.rate_keys)}):
        rate = rates(_family(key))
        if rate is None:
            continue
        count, seconds = rate
        if postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
        window_start = now - timedelta(seconds=seconds)
        in_window = or_(RateEvent.started.is_(False), RateEvent.at > window_start)
        used = session.execute(
            select(func.count()).select_from(RateEvent).where(RateEvent.key == key, in_window)
        ).scalar_one()
        capacity[key] = max(0, count - used)
        oldest = session.execute(
            select(func.min(RateEvent.at)).where(
                RateEvent.key == key, RateEvent.started.is_(True), RateEvent.at > window_start
            )
        ).scalar_one()
        free_at[key] = (oldest + timedelta(seconds=seconds)) if oldest else now + timedelta(seconds=0.05)

    claimed: list[Claimed] = []
    deferred_until: datetime | None = None
    lease_end = now + timedelta(seconds=lease_seconds)
    for row in candidates:
        if len(claimed) >= limit:
            break
        keys = [k for k in _split_keys(row.rate_keys) if k in capacity]
        blocked = [k for k in keys if capacity[k] <= 0]
        if blocked:
            wait = max(free_at[k] for k in blocked)
            deferred_until = wait if deferred_until is None else min(deferred_until, wait)
            if row.state == "pending":
                # Move it out of the way so rows for other keys are not stuck behind it.
                row.next_attempt_at = wait
            continue
        for key in keys:
            capacity[key] -= 1
            session.add(RateEvent(key=key, at=now, started=False, outbox_id=row.id))
        row.state = "running"
        row.locked_by = worker_id
        row.locked_until = lease_end
        row.attempts = row.attempts + 1
        claimed.append(
            Claimed(
                id=row.id,
                kind=row.kind,
                payload=row.payload,
                attempts=row.attempts,
                max_attempts=row.max_attempts,
                dedupe_key=row.dedupe_key,
            )
        )
    session.flush()
    return claimed, deferred_until


def _mark_started(session: Session, outbox_id: int, started_at: datetime | None) -> None:
    if started_at is None:
        session.execute(
            delete(RateEvent).where(RateEvent.outbox_id == outbox_id, RateEvent.started.is_(False))
        )
        return
    session.execute(
        update(RateEvent)
        .where(RateEvent.outbox_id == outbox_id, RateEvent.started.is_(False))
        .values(started=True, at=started_at)
    )


def mark_sent(
    session: Session,
    *,
    outbox_id: int,
    worker_id: str,
    now: datetime,
    started_at: datetime | None,
    platform_ref: str | None,
) -> bool:
    """Record success. False if the lease was lost (another worker owns the row now)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.locked_by == worker_id,
            OutboxMessage.state == "running",
        )
        .values(state="sent", sent_at=now, platform_ref=platform_ref, locked_until=None, last_error=None)
    )
    _mark_started(session, outbox_id, started_at)
    return result.rowcount == 1  # UPDATE rowcount is reliable on both drivers


def mark_failed(
    session: Session,
    *,
    outbox_id: int,
    worker_id: str,
    retry_at: datetime | None,
    error: str,
    started_at: datetime | None,
) -> str:
    """Record a failure: back to pending at ``retry_at``, or dead when ``retry_at`` is None.

    Returns the new state ("pending", "dead" or "lost" when the lease was lost)."""
    row = session.execute(
        select(OutboxMessage).where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.locked_by == worker_id,
            OutboxMessage.state == "running",
        )
    ).scalar_one_or_none()
    _mark_started(session, outbox_id, started_at)
    if row is None:
        return "lost"
    row.last_error = error[:2000]
    row.locked_until = None
    if retry_at is None or row.attempts >= row.max_attempts:
        row.state = "dead"
    else:
        row.state = "pending"
        row.next_attempt_at = retry_at
    return row.state


def prune(session: Session, *, sent_before: datetime, rate_before: datetime) -> tuple[int, int]:
    sent = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state.in_(("sent", "superseded")), OutboxMessage.created_at < sent_before
        )
    ).rowcount
    rates = session.execute(
        delete(RateEvent).where(RateEvent.started.is_(True), RateEvent.at < rate_before)
    ).rowcount
    return sent, rates


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    return {state: count for state, count in rows}


def pending_ids(session: Session, kinds: Sequence[str] | None = None) -> list[int]:
    query = select(OutboxMessage.id).where(OutboxMessage.state.in_(("pending", "running")))
    if kinds:
        query = query.where(OutboxMessage.kind.in_(kinds))
    return list(session.execute(query).scalars())


def next_attempt(session: Session) -> datetime | None:
    """When the next pending row becomes due (or a running row's lease ends); None if idle."""
    pending = session.execute(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.state == "pending")
    ).scalar_one()
    running = session.execute(
        select(func.min(OutboxMessage.locked_until)).where(OutboxMessage.state == "running")
    ).scalar_one()
    times = [t for t in (pending, running) if t is not None]
    return min(times) if times else None
