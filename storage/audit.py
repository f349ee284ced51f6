"""The audit chain: every state change appends a row whose hash is keyed with the audit key.

hash_i = HMAC-SHA256(key, prev_hash_i + "\\n" + body_i), body_i being the canonical JSON of the
event. An unkeyed chain could be recomputed by anyone able to write to the database; the key
lives outside it (settings). Appends lock the single head row, so concurrent writers on
PostgreSQL are serialised; SQLite writers are already serialised by BEGIN IMMEDIATE.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage import raw
from storage.base import canonical_json
from storage.bulk import insert_rows
from storage.models.platform import AuditEvent, AuditHead
from storage.upsert import insert_ignore

GENESIS = "0" * 64


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
# and SQLAlchemy's execution machinery cost more than running the three statements of an append.
_LOCK_HEAD = select(_HEADS.c.last_hash).where(_HEADS.c.id == 1).with_for_update()
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
)
_INSERT_ONE = (
    insert(_EVENTS)
    .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in _ROW_COLUMNS})
    .returning(_EVENTS.c.id)
)


def _move_head(last_id: Any, last_hash: Any, added: Any) -> Any:
    return (
        update(_HEADS)
        .where(_HEADS.c.id == 1)
        .values(last_id=last_id, last_hash=last_hash, count=_HEADS.c.count + added)
    )


_MOVE_HEAD = _move_head(bindparam("new_last_id"), bindparam("new_last_hash"), bindparam("added"))
# PostgreSQL: the event and the head's move in one statement (a data-modifying CTE; SQLite has none).
_NEW_EVENT = _INSERT_ONE.cte("new_event")
_INSERT_AND_MOVE = _move_head(select(_NEW_EVENT.c.id).scalar_subquery(), bindparam("hash"), 1).add_cte(
    _NEW_EVENT
)
_ID_OF_HASH = select(_EVENTS.c.id).where(_EVENTS.c.hash == bindparam("hash"))
# What ``append_many`` passes per row; ``at`` is the same for the whole batch.
_BULK_COLUMNS = _ROW_COLUMNS[1:]


class AuditLog:
    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the audit key must not be empty")
        self._key = key

    def _head(self, session: Session | raw.Direct) -> str:
        """Lock the head row (created on first use) and return the newest hash."""
        found = raw.first(session, _LOCK_HEAD)
        if found is None:
            # The first append ever. Two can race here: the loser's insert waits for the
            # winner's commit and skips, and its second look then finds (and locks) that head.
            insert_ignore(
                session,
                AuditHead,
                {"id": 1, "last_id": 0, "last_hash": GENESIS, "count": 0},
                conflict_column="id",
            )
            found = raw.first(session, _LOCK_HEAD)
            assert found is not None
        return str(found[0])

    def _row(self, entry: AuditEntry, at: datetime, stamp: str, prev: str) -> dict[str, Any]:
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
        }

    def append(self, session: Session | raw.Direct, entry: AuditEntry, *, at: datetime) -> None:
        """Append one event inside the caller's transaction. On PostgreSQL the event goes
        without waiting for the answer (``raw.send``): in a ``raw.Batch`` it travels with the commit,
        which raises its error if it has one."""
        at = at.astimezone(UTC)
        row = self._row(entry, at, at.isoformat(), self._head(session))
        if raw.dialect(session).name == "postgresql":
            raw.send(session, _INSERT_AND_MOVE, row)
            return
        inserted = raw.first(session, _INSERT_ONE, row)
        assert inserted is not None
        raw.run(session, _MOVE_HEAD, {"new_last_id": inserted[0], "new_last_hash": row["hash"], "added": 1})

    def append_many(self, session: Session, entries: list[AuditEntry], *, at: datetime) -> int:
        """Append several events in order with one multi-row insert (a tick that moves thousands
        of rows audits each of them; one statement per event would cost more than the work).

        The chain is the same as appending one at a time. Returns the number appended."""
        if not entries:
            return 0
        at = at.astimezone(UTC)
        prev = self._head(session)
        rows: list[tuple[Any, ...]] = []
        stamp = at.isoformat()
        for entry in entries:
            row = self._row(entry, at, stamp, prev)
            rows.append(tuple(row[column] for column in _BULK_COLUMNS))
            prev = row["hash"]
        insert_rows(session, _EVENTS, _BULK_COLUMNS, rows, constants={"at": at})
        found = raw.first(session, _ID_OF_HASH, {"hash": prev})
        assert found is not None
        raw.run(session, _MOVE_HEAD, {"new_last_id": found[0], "new_last_hash": prev, "added": len(rows)})
        return len(rows)

    def verify(self, session: Session, *, batch: int = 5000) -> VerifyResult:
        """Walk the chain in order; report the first row that does not fit."""
        prev = GENESIS
        checked = 0
        last_id = 0
        while True:
            rows = session.execute(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            ).scalars()
            seen = False
            for row in rows:
                seen = True
                problem = self._check_row(row, prev)
                if problem:
                    return VerifyResult(ok=False, checked=checked, broken_id=row.id, reason=problem)
                prev = row.hash
                last_id = row.id
                checked += 1
            session.expunge_all()
            if not seen:
                break
        head = session.get(AuditHead, 1)
        if head is not None and (head.last_hash != prev or head.count != checked):
            return VerifyResult(
                ok=False,
                checked=checked,
                broken_id=head.last_id,
                reason="链尾与记录不符：最新的记录被删除或截断",
            )
        return VerifyResult(ok=True, checked=checked, broken_id=None, reason="")

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
