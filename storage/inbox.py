"""Record an inbound event (its dedupe row) together with the messages its handler queued.

A chat callback's handler usually writes nothing but its answer: ``帮助``, a hint, a refusal. The
route asks ``seen`` first (a redelivery is answered as the first time and its handler does not
run), runs the handler with its outbox rows held back (``Context.defer_outbox``), then calls
``record``, which inserts the event row and, only if that row is new, the messages. The unique
``event_key`` has the last word: a copy that raced past ``seen`` finds the row at ``record`` and
the route rolls back whatever its handler did, so nothing happens twice. On SQLite ``seen`` runs
under the write lock, so there a racing copy cannot get past it at all.

On PostgreSQL, ``seen`` is one autocommitted read, and when the handler did not touch the
database, ``record`` is one autocommitted statement (``WITH ev AS (INSERT … RETURNING) INSERT …
WHERE EXISTS (ev)``), both on ``Database.autocommit()`` connections: two round trips instead of
four (``BEGIN``, two inserts, ``COMMIT``) and no session work, which is most of what such a
callback costs. One statement is one transaction, so the event and its messages still commit
together. That pool runs with ``synchronous_commit = off``: such a commit does not wait for the
WAL flush, so a database crash within a fraction of a second can lose an event row with its reply
(a redelivery is then answered again), never one without the other. Nothing of record can take
this path: whatever a handler writes makes it take the other one. Otherwise (SQLite, or a handler
that read or wrote) both inserts run in the open transaction, which commits durably.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from storage import outbox
from storage.bulk import bind_value
from storage.db import Database, has_connected
from storage.models.platform import InboxEvent, OutboxMessage
from storage.upsert import insert_ignore

_SEEN = "SELECT 1 FROM inbox_event WHERE event_key = %s"


def _autocommit(db: Database, quick: Any) -> Any:
    """The caller's open ``Database.autocommit()`` connection, or a new checkout."""
    return nullcontext(quick) if quick is not None else db.autocommit()


def seen(db: Database, session: Session, event_key: str, *, quick: Any = None) -> bool:
    """Whether this event was recorded before (a redelivery). ``quick``: an open
    ``Database.autocommit()`` connection to use on PostgreSQL (one checkout for the request)."""
    if db.is_postgres:
        with _autocommit(db, quick) as connection:
            return connection.execute(_SEEN, (event_key,)).fetchone() is not None
    driver = session.connection().connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_SEEN.replace("%s", "?"), (event_key,))
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def record(
    db: Database,
    session: Session,
    *,
    event_key: str,
    kind: str,
    at: datetime,
    messages: Sequence[outbox.Pending],
    max_attempts: int,
    quick: Any = None,
) -> bool:
    """Insert the event row and, if it is new, ``messages``. False: the event was seen before,
    nothing was written here, and the caller must roll back what its handler wrote."""
    event = {
        "event_key": event_key,
        "kind": kind,
        "received_at": at,
        "status_code": 200,
        "response_body": "{}",
    }
    if db.is_postgres and not has_connected(session):
        with _autocommit(db, quick) as connection:
            return _in_one_statement(connection, db, event, messages, at, max_attempts)
    if not insert_ignore(session, InboxEvent, event, conflict_column="event_key"):
        return False
    if messages:
        outbox.enqueue_many(session, messages, now=at, max_attempts=max_attempts)
    return True


def _in_one_statement(
    quick: Any,
    db: Database,
    event: dict[str, object],
    messages: Sequence[outbox.Pending],
    at: datetime,
    max_attempts: int,
) -> bool:
    dialect = db.engine.dialect
    columns = InboxEvent.__table__.c
    params: list[object] = [bind_value(columns[name].type, dialect, value) for name, value in event.items()]
    if messages:  # in the order of the placeholders: the constants come before the rows
        columns = OutboxMessage.__table__.c
        constants = outbox.many_constants(at, max_attempts)
        params += [bind_value(columns[name].type, dialect, value) for name, value in constants.items()]
        for row in outbox.many_rows(messages):
            params += row
    row = quick.execute(_statement(dialect, tuple(event), len(messages)), params).fetchone()
    return bool(row and row[0] == 1)


@cache
def _statement(dialect: Any, event_columns: tuple[str, ...], count: int) -> str:
    """The event insert and, depending on it, ``count`` outbox rows, as one statement.

    The rows are a ``VALUES`` list of plain parameters (a callback queues one or two): psycopg
    adapts scalars faster than the arrays ``storage.bulk`` sends for thousands of rows.
    """
    sql = (
        f"WITH ev AS (INSERT INTO inbox_event ({', '.join(event_columns)}) "
        f"VALUES ({', '.join('%s' for _ in event_columns)}) ON CONFLICT (event_key) DO NOTHING RETURNING id)"
    )
    if count:
        table = OutboxMessage.__table__
        constants = outbox.MANY_CONSTANTS
        names = (*outbox.MANY_COLUMNS, *constants)
        typed = ", ".join(
            f"%s::{table.c[name].type.compile(dialect=dialect)}" for name in outbox.MANY_COLUMNS
        )
        rows = ", ".join(f"({typed})" for _ in range(count))
        fixed = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}" for name in constants)
        sql += (
            f", queued AS (INSERT INTO outbox ({', '.join(names)}) "
            f"SELECT v.*, {fixed} FROM (VALUES {rows}) AS v WHERE EXISTS (SELECT 1 FROM ev) "
            "ON CONFLICT (dedupe_key) DO NOTHING)"
        )
    return sql + " SELECT count(*) FROM ev"


__all__ = ["record"]
