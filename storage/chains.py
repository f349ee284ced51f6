"""Which audit chain a PostgreSQL connection appends to, and the hash it appends after.

Why chains: with one chain for the whole database, every write transaction locked the chain's
head row and waited for its hash before it could compute its own event's HMAC. That was a round
trip inside every write, and one queue for all writers of the database, held from the head's
read until the commit. Now each connection owns a chain for as long as it lives (a session-level
advisory lock on the chain's id), so it alone moves that chain's head: after each of its commits
the client knows the head's hash, and an append in a ``storage.batch.Batch`` needs no answer.

Chains are reused: a connection takes the lowest chain nobody holds and opens a new one (the
next id after the highest) only when every chain is held, so there are as many chains as
connections were ever open at once, and their ids have no gaps (a missing id is a deleted
chain, ``storage.audit.AuditLog.verify``). SQLite keeps the single chain 1: its writers are
serialised by the database anyway.

What the client believes about the head is only moved when a batch's COMMIT was answered; any
failure forgets it and the next append reads the head again. The head's UPDATE also checks the
hash it expects (``raw.send_expecting_one``), so a wrong belief fails one transaction and never
forks a chain.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The first key of the advisory locks that mark a chain as held ("chyc"); the second is its id.
LOCK_CLASS = 0x63687963
# (LOCK_CLASS, ORDER_LOCK) is the transaction-level lock that keeps audit ids in commit order
# (``storage.audit``); chain ids start at 1.
ORDER_LOCK = 0
GENESIS = "0" * 64

_FREE = (
    "SELECT h.id FROM audit_head h WHERE NOT EXISTS (SELECT 1 FROM pg_locks l "
    f"WHERE l.locktype = 'advisory' AND l.classid = {LOCK_CLASS} AND l.objid = h.id AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) "
    "ORDER BY h.id LIMIT 8"
)
_TRY_LOCK = f"SELECT pg_try_advisory_lock({LOCK_CLASS}, %s)"
_UNLOCK = f"SELECT pg_advisory_unlock({LOCK_CLASS}, %s)"
_READ_HEAD = "SELECT last_hash FROM audit_head WHERE id = %s"
_NEXT_ID = "SELECT coalesce(max(id), 0) + 1 FROM audit_head"
_OPEN = (
    "INSERT INTO audit_head (id, last_id, last_hash, count) VALUES (%s, 0, %s, 0) ON CONFLICT (id) DO NOTHING"
)
_ATTEMPTS = 20


def genesis(chain_id: int) -> str:
    """What a chain's first event links to: chain 1 continues the single chain of before; the
    others start from a value of their own, so that no two chains can hold the same hash and an
    event moved from one chain to another breaks both."""
    if chain_id == 1:
        return GENESIS
    return hashlib.sha256(f"chayici audit chain {chain_id}".encode()).hexdigest()


@dataclass
class Chain:
    """A chain held by one connection. ``hash``: the head's hash after the connection's last
    commit, or None when not known (read it inside the transaction)."""

    id: int
    hash: str | None


# Driver connection -> the chain it holds (the advisory lock ends with the connection).
_held: weakref.WeakKeyDictionary[Any, Chain] = weakref.WeakKeyDictionary()


def held(connection: Any) -> Chain | None:
    return _held.get(connection)


def claim(connection: Any) -> Chain:
    """Take a chain for this psycopg connection: the lowest free one, else a new one. Runs in
    the connection's current mode. Inside an open transaction (only when the checkout could not
    claim, ``install``) a chain opened there exists once that transaction commits; if it rolls
    back, the next append finds no head row and claims again (``storage.audit``)."""
    for _ in range(_ATTEMPTS):
        for (chain_id,) in connection.execute(_FREE).fetchall():
            if not connection.execute(_TRY_LOCK, (chain_id,)).fetchone()[0]:
                continue
            found = connection.execute(_READ_HEAD, (chain_id,)).fetchone()
            if found is None:  # deleted between the two statements
                connection.execute(_UNLOCK, (chain_id,))
                continue
            chain = Chain(int(chain_id), str(found[0]))
            _held[connection] = chain
            return chain
        next_id = int(connection.execute(_NEXT_ID).fetchone()[0])
        connection.execute(_OPEN, (next_id, genesis(next_id)))
    raise RuntimeError("no audit chain could be taken: every attempt lost its race")


def release(connection: Any) -> None:
    """Forget this connection's chain and free it (for a chain whose head row is gone)."""
    chain = _held.pop(connection, None)
    if chain is not None:
        connection.execute(_UNLOCK, (chain.id,))


def install(engine: Engine) -> None:
    """Give every connection of this PostgreSQL engine a chain when it is first lent out, in a
    transaction of its own: before the caller's transaction, so a new chain is committed at once.
    A database without the audit tables yet (before its migrations) is left alone until the next
    checkout."""

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection in _held:
            return
        from psycopg import errors

        try:
            claim(dbapi_connection)
        except errors.UndefinedTable:
            dbapi_connection.rollback()
            return
        except BaseException:
            dbapi_connection.rollback()
            raise
        dbapi_connection.commit()
