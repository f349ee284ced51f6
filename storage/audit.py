"""The audit chains: every state change appends a row whose hash is keyed with the audit key.

hash_i = HMAC-SHA256(key, prev_hash_i + "\\n" + body_i), body_i being the canonical JSON of the
event and prev_hash_i the hash of the event before it on the same chain. An unkeyed chain could
be recomputed by anyone able to write to the database; the key lives outside it (settings).
SQLite appends to chain 1 under its head row's lock; on PostgreSQL each connection appends to a
chain it holds alone (``storage.chains``), and one transaction-level lock keeps ids in commit order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from storage import chains, raw
from storage.base import canonical_json
from storage.bulk import insert_rows
from storage.models.platform import AuditEvent, AuditHead
from storage.upsert import insert_ignore

GENESIS = chains.GENESIS


def _digest(key: bytes, prev_hash: str, body: str) -> str:
    return hmac.new(key, f"{prev_hash}\n{body}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """What a caller says about a change; the log adds time, chain and hash."""

    action: str
    entity_type: str
    entity_id: str
    actor: str
    actor_person_id: int | None = None
    before: Any = None
    after: Any = None
    detail: Any = None


_EVENTS = AuditEvent.__table__
_HEADS = AuditHead.__table__
# Core statements built once and run on the driver (storage/raw.py): every state change appends,
# and SQLAlchemy's execution machinery cost more than running the statements of an append.
_ROW_COLUMNS = (
    "at",
    "actor",
    "actor_person_id",
    "action",
    "entity_type",
    "entity_id",
    "body",
    "prev_hash",
    "hash",
    "chain_id",
)
_INSERT_ONE = (
    insert(_EVENTS)
    .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in _ROW_COLUMNS})
    .returning(_EVENTS.c.id)
)


def _move_head(last_id: Any, last_hash: Any, added: Any) -> Any:
    return (
        update(_HEADS)
        .where(_HEADS.c.id == bindparam("chain_id"))
        .values(last_id=last_id, last_hash=last_hash, count=_HEADS.c.count + added)
    )


_MOVE_HEAD = _move_head(bindparam("new_last_id"), bindparam("new_last_hash"), bindparam("added"))
# PostgreSQL: the event, and the head's move checked on the server (it must still hold the hash
# the event links to: ``storage.chains``), as one statement sent without waiting for its answer.
_NEW_EVENT = _INSERT_ONE.cte("new_event")
_APPEND = raw.expecting_one(
    _move_head(select(_NEW_EVENT.c.id).scalar_subquery(), bindparam("hash"), 1)
    .where(_HEADS.c.last_hash == bindparam("prev_hash"))
    .returning(_HEADS.c.id),
    "audit_head",
).add_cte(_NEW_EVENT)
_ID_OF_HASH = select(_EVENTS.c.id).where(_EVENTS.c.hash == bindparam("hash"))
# What ``append_many`` passes per row; ``at`` and ``chain_id`` are the same for the whole batch.
_BULK_COLUMNS = _ROW_COLUMNS[1:-1]
_SQLITE_CHAIN = 1
# PostgreSQL: an append takes this transaction-level lock before its event gets an id and holds
# it to the commit, so that audit ids grow in commit order (the oversight projection reads the
# events above a cursor and must never see a lower id commit later). In a batch it is taken and
# released within the one message that ends with the COMMIT, so no client work happens under it.
_ORDER = select(func.pg_advisory_xact_lock(chains.LOCK_CLASS, chains.ORDER_LOCK))
# The head of the connection's chain, read when the client does not know it, with the order lock.
_READ_HEAD = (
    select(_HEADS.c.last_hash, func.pg_advisory_xact_lock(chains.LOCK_CLASS, chains.ORDER_LOCK))
    .where(_HEADS.c.id == bindparam("chain_id"))
    .with_for_update()
)
_LOCK_HEAD = select(_HEADS.c.last_hash).where(_HEADS.c.id == _SQLITE_CHAIN).with_for_update()


_LINK_KEY = "storage.audit.link"


class _Link:
    """This transaction's place in its connection's chain: ``hash`` is what the next append
    links to. In a PostgreSQL ``Batch`` it becomes the chain's known head when the COMMIT is
    answered, and is forgotten on any failure."""

    __slots__ = ("chain", "hash")

    def __init__(self, chain: chains.Chain, hash: str) -> None:
        self.chain = chain
        self.hash = hash

    def settle(self, committed: bool) -> None:
        self.chain.hash = self.hash if committed else None


def _link(session: Session | raw.Direct) -> _Link:
    """The chain to append to (PostgreSQL) and the hash to link to, for this transaction.

    In a ``Batch`` the link is kept for the transaction (``Direct.info``) and the chain's head
    is known from the connection's last commit; elsewhere (an ORM session, whose commit is not
    watched) every append reads the head, which also sees this transaction's own appends."""
    batch = session.batch if type(session) is raw.Direct else None
    if batch is not None:
        link: _Link | None = session.info.get(_LINK_KEY)
        if link is not None:
            return link
    _, connection = raw.driver(session)
    chain = chains.held(connection) or chains.claim(connection)
    known = chain.hash if batch is not None else None
    if known is None:
        chain, known = _read_head(session, connection, chain)
    else:
        raw.send(session, _ORDER)  # kept: goes out in front of the event, with the COMMIT
    link = _Link(chain, known)
    if batch is not None:
        batch.when_done(link.settle)
        session.info[_LINK_KEY] = link
    else:
        chain.hash = None  # the next batch on this connection reads the head again
    return link


def _read_head(
    session: Session | raw.Direct, connection: Any, chain: chains.Chain
) -> tuple[chains.Chain, str]:
    """The chain's head hash, read with the order lock; a chain whose head row is gone (a
    database emptied under a running process) is given up for another."""
    found = raw.first(session, _READ_HEAD, {"chain_id": chain.id})
    if found is None:
        chains.release(connection)
        chain = chains.claim(connection)
        found = raw.first(session, _READ_HEAD, {"chain_id": chain.id})
        if found is None:
            raise RuntimeError(f"audit chain {chain.id} has no head row")
    return chain, str(found[0])


class AuditLog:
    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the audit key must not be empty")
        self._key = key

    def _head(self, session: Session | raw.Direct) -> str:
        """SQLite: lock the single chain's head row (created on first use), return its hash."""
        found = raw.first(session, _LOCK_HEAD)
        if found is None:
            # The first append ever. Two can race here: the loser's insert waits for the
            # winner's commit and skips, and its second look then finds (and locks) that head.
            insert_ignore(
                session,
                AuditHead,
                {"id": _SQLITE_CHAIN, "last_id": 0, "last_hash": GENESIS, "count": 0},
                conflict_column="id",
            )
            found = raw.first(session, _LOCK_HEAD)
            assert found is not None
        return str(found[0])

    def _row(self, entry: AuditEntry, at: datetime, stamp: str, prev: str, chain_id: int) -> dict[str, Any]:
        body = canonical_json(
            {
                "at": stamp,
                "actor": entry.actor,
                "actor_person_id": entry.actor_person_id,
                "action": entry.action,
                "entity_type": entry.entity_type,
                "entity_id": str(entry.entity_id),
                "before": entry.before,
                "after": entry.after,
                "detail": entry.detail,
            }
        )
        return {
            "at": at,
            "actor": entry.actor,
            "actor_person_id": entry.actor_person_id,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": str(entry.entity_id),
            "body": body,
            "prev_hash": prev,
            "hash": _digest(self._key, prev, body),
            "chain_id": chain_id,
        }

    def append(self, session: Session | raw.Direct, entry: AuditEntry, *, at: datetime) -> None:
        """Append one event inside the caller's transaction. On PostgreSQL the event goes
        without waiting for the answer (``raw.send``): in a ``raw.Batch`` it travels with the
        commit, which raises its error if it has one, and the hash it links to is known on the
        client (``storage.chains``), so nothing in an append waits for the server."""
        at = at.astimezone(UTC)
        if raw.dialect(session).name == "postgresql":
            link = _link(session)
            row = self._row(entry, at, at.isoformat(), link.hash, link.chain.id)
            raw.send(session, _APPEND, row)
            link.hash = row["hash"]
            return
        row = self._row(entry, at, at.isoformat(), self._head(session), _SQLITE_CHAIN)
        inserted = raw.first(session, _INSERT_ONE, row)
        assert inserted is not None
        raw.run(
            session,
            _MOVE_HEAD,
            {"new_last_id": inserted[0], "new_last_hash": row["hash"], "added": 1, "chain_id": _SQLITE_CHAIN},
        )

    def append_many(self, session: Session, entries: list[AuditEntry], *, at: datetime) -> int:
        """Append several events in order with one multi-row insert (a tick that moves thousands
        of rows audits each of them; one statement per event would cost more than the work).

        The chain is the same as appending one at a time. Returns the number appended."""
        if not entries:
            return 0
        at = at.astimezone(UTC)
        link = _link(session) if raw.dialect(session).name == "postgresql" else None
        if link is not None:
            chain_id, prev = link.chain.id, link.hash
        else:
            chain_id, prev = _SQLITE_CHAIN, self._head(session)
        rows: list[tuple[Any, ...]] = []
        stamp = at.isoformat()
        for entry in entries:
            row = self._row(entry, at, stamp, prev, chain_id)
            rows.append(tuple(row[column] for column in _BULK_COLUMNS))
            prev = row["hash"]
        insert_rows(session, _EVENTS, _BULK_COLUMNS, rows, constants={"at": at, "chain_id": chain_id})
        found = raw.first(session, _ID_OF_HASH, {"hash": prev})
        assert found is not None
        moved = raw.run(
            session,
            _MOVE_HEAD,
            {"new_last_id": found[0], "new_last_hash": prev, "added": len(rows), "chain_id": chain_id},
        )
        if moved != 1:
            raise RuntimeError(f"audit chain {chain_id} has no head row")
        if link is not None:
            link.hash = prev
        return len(rows)

    def verify(self, session: Session, *, batch: int = 5000) -> VerifyResult:
        """Walk every chain in order (one pass over the events by id); report the first row that
        does not fit, then a head that does not match its chain's newest row, then a chain whose
        head row is gone (chain ids run 1, 2, 3 ... without gaps)."""
        prev: dict[int, str] = {}
        counts: dict[int, int] = {}
        checked = 0
        last_id = 0
        while True:
            rows = session.execute(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            ).scalars()
            seen = False
            for row in rows:
                seen = True
                chain = row.chain_id
                problem = self._check_row(row, prev.get(chain) or chains.genesis(chain))
                if problem:
                    return VerifyResult(ok=False, checked=checked, broken_id=row.id, reason=problem)
                prev[chain] = row.hash
                counts[chain] = counts.get(chain, 0) + 1
                last_id = row.id
                checked += 1
            session.expunge_all()
            if not seen:
                break
        heads = {head.id: head for head in session.execute(select(AuditHead)).scalars()}
        for chain_id, head in sorted(heads.items()):
            if head.last_hash != prev.get(chain_id, chains.genesis(chain_id)) or head.count != counts.get(
                chain_id, 0
            ):
                return VerifyResult(
                    ok=False,
                    checked=checked,
                    broken_id=head.last_id or None,
                    reason=f"第 {chain_id} 条链的链尾与记录不符：最新的记录被删除或截断",
                )
        expected = set(range(1, max([*heads, *counts], default=0) + 1))
        missing = sorted(expected - set(heads))
        if missing:
            return VerifyResult(
                ok=False,
                checked=checked,
                broken_id=None,
                reason=f"第 {missing[0]} 条链的链头缺失：该链或其链头被删除",
            )
        summary = tuple((chain_id, head.count, head.last_hash) for chain_id, head in sorted(heads.items()))
        return VerifyResult(ok=True, checked=checked, broken_id=None, reason="", heads=summary)

    def _check_row(self, row: AuditEvent, prev: str) -> str:
        if row.prev_hash != prev:
            return "前一条记录的哈希不符：有记录被删除、插入或调换了顺序"
        if not hmac.compare_digest(_digest(self._key, prev, row.body), row.hash):
            return "内容哈希不符：该记录被修改过"
        try:
            data = json.loads(row.body)
        except ValueError:
            return "记录内容不是合法的 JSON"
        if (
            data.get("action") != row.action
            or data.get("entity_type") != row.entity_type
            or data.get("entity_id") != row.entity_id
            or data.get("actor") != row.actor
            or data.get("at") != row.at.isoformat()
        ):
            return "查询列与已签名内容不一致：该记录被修改过"
        return ""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None
    reason: str
    # (chain id, events, newest hash) of every chain, when ``ok``: what to note down outside the
    # database, so that a later check can tell a chain cut short or removed whole.
    heads: tuple[tuple[int, int, str], ...] = ()
