"""The mobile form's submission decided first and stored after, so that locks are held only for
the writes.

Under ``service.submit`` everything (reads, the ODK checks, the rules, the writes) runs inside
the write transaction, holding the task and record locks and, on SQLite, the database's single
write lock. The checks and the reads are most of a submission's work, so SQLite ran one
submission at a time however many workers there were. Here:

1. without locks, the record is read as plain rows (``rows.peek``) and ``service.prepare`` runs
   every check (its first audit event, a refusal, ends this path);
2. a duplicate ("already received") is answered from that read: nothing is written for it;
3. an accepted version is stored by ``service.apply(guard=True)``: the version, then the record
   with an UPDATE that applies only while the record still holds what step 1 read
   (``rows.GUARDED``), then its audit event and its job.

Whatever else happens falls back to the locked path (``None``): a refusal or a conflict (their
audit events are written there), a record that moved between the steps (the guarded UPDATE
touched no row, the transaction is rolled back), a submission id stored meanwhile (the unique
key refuses the version), drawn signatures (they are stored before the checks). The locked path
then decides again from scratch, so the answers are the same as if only it existed.

Both steps run on pooled driver connections without an ORM session (``Database.direct``): every
statement here goes through ``storage.raw``. On SQLite they are two transactions, so that the
read and the checks stay outside the database's single write lock. On PostgreSQL they share one
connection (``storage.batch``): the read is one statement before the transaction opens
(``rows.peek`` with the submission id brings everything the checks and the writes ask for), and
the writes with the COMMIT are one message: two round trips in all. Nothing is answered in
between, so the guarded UPDATE is checked by the server (``raw.send_expecting_one``) and the
audit event links to its connection's own chain, whose head the client knows
(``storage.chains``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.context import Context, UserError
from bot.services import Services
from handlers.results import links, rows, service
from handlers.results.records import NotOnTeam
from storage import outbox, raw


class _Fallback(Exception):
    """Leaves the quick path (its write transaction rolled back) for the locked path."""


class _DryContext(Context):
    """The read step's context: the checks run with it, and the first thing they would audit
    (a refusal, a conflict, a stale draft) sends the submission to the locked path instead."""

    def audit(self, *args: Any, **kwargs: Any) -> None:
        raise _Fallback


@dataclass
class _Decided:
    """What the read step accepted, for the write step."""

    ctx: Context
    loaded: rows.RowsLoaded
    prepared: service.Accepted


def submit(
    services: Services,
    grant: links.Grant,
    data: dict[str, Any],
    answer: Callable[[Context, rows.RowsLoaded, service.Outcome], Any],
) -> Any | None:
    """``answer(ctx, loaded, outcome)`` for a duplicate or a stored version, a ``UserError`` for
    values that fail the rules (nothing stored), or None: take the locked path."""
    key = f"form:submit:{grant.record_id}:{secrets.token_hex(8)}"
    now = services.clock.now()
    db = services.db
    try:
        if db.is_postgres:
            # One pooled connection and two round trips: the lock-free read (before the
            # transaction opens), then BEGIN, every write and COMMIT as one message. The guarded
            # update decides on the server: the read took no locks, PostgreSQL's UPDATE checks
            # its WHERE against the newest row, and a miss fails the transaction (raw.missed).
            try:
                with db.direct(write=True) as handle:
                    decided = _decide(services, handle, grant, data, key, now, answer)
                    if not isinstance(decided, _Decided):
                        return decided
                    stored, outcome = _store(services, handle, decided, key, now)
            except Exception as error:
                if raw.missed(error) or isinstance(error, db.engine.dialect.loaded_dbapi.IntegrityError):
                    raise _Fallback from None  # the record moved, or its submission id was stored
                raise
        else:
            # SQLite: the read outside the write lock, which is taken for the writes alone.
            with db.direct(write=False) as reader:
                decided = _decide(services, reader, grant, data, key, now, answer)
                if not isinstance(decided, _Decided):
                    return decided
            with db.direct(write=True) as writer:
                stored, outcome = _store(services, writer, decided, key, now)
    except _Fallback:
        return None
    return answer(stored, decided.loaded, outcome)


def _decide(
    services: Services,
    handle: raw.Direct,
    grant: links.Grant,
    data: dict[str, Any],
    key: str,
    now: datetime,
    answer: Callable[[Context, rows.RowsLoaded, service.Outcome], Any],
) -> _Decided | Any:
    """The read step: ``_Decided``, or what to return at once (an answer, a ``UserError``)."""
    ctx = _context(_DryContext, services, handle, key, now)
    ids = service.form_ids(data)
    try:
        loaded = rows.peek(ctx, grant.record_id, instance_id=ids["submission_id"].strip())
    except UserError:
        raise _Fallback from None  # unknown record: the locked path says so
    rows.act_as(ctx, loaded, grant.person_id)
    try:
        prepared = service.prepare(ctx, loaded, dict(data.get("values", {})), via="form", **ids)
    except (NotOnTeam, service.Conflict):
        raise _Fallback from None  # answered with their audit events on the locked path
    except UserError as problem:
        return problem
    if isinstance(prepared, service.Outcome):
        return answer(ctx, loaded, prepared)
    return _Decided(ctx, loaded, prepared)


def _store(
    services: Services, handle: raw.Direct, decided: _Decided, key: str, now: datetime
) -> tuple[Context, service.Outcome]:
    """The write step: the version stored, or ``_Fallback`` (the caller's transaction rolls back)."""
    stored = _context(Context, services, handle, key, now)
    stored.person, stored.staff_id = decided.ctx.person, decided.ctx.staff_id
    stored.defer_outbox()  # sent below without waiting for the answer (outbox.send_new)
    try:
        outcome = service.apply(stored, decided.loaded, decided.prepared, guard=True)
        outbox.send_new(
            handle, stored.take_deferred(), now=now, max_attempts=services.settings.outbox_max_attempts
        )
    except service.Moved:
        raise _Fallback from None
    except Exception as error:
        if isinstance(error, handle.dialect.loaded_dbapi.IntegrityError):
            raise _Fallback from None  # the submission id was stored meanwhile
        raise
    return stored, outcome


def _context(kind: type[Context], services: Services, handle: raw.Direct, key: str, now: datetime) -> Context:
    return kind(
        session=handle,  # type: ignore[arg-type]  # every statement of this path runs through storage.raw
        now=now,
        settings=services.settings,
        audit_log=services.audit_log,
        staff_id=None,
        event_key=key,
    )
