"""The fact projection: reads the audit chain in order from a cursor and writes ``oversight_fact``.

Why a cursor and not a hook on every append: audit rows arrive through ``AuditLog.append`` (ORM),
``append_many`` (one multi-row insert) and bulk imports alike; reading the chain itself is the one
way that cannot miss a row. Ids grow in commit order (``storage.audit`` takes its order lock
before an event gets its id and holds it to the commit), so "everything after the cursor" is
exactly what has not been derived yet. The ticker runs the projection every minute and every
bulletin, page and export runs it first in its own transaction, so figures always include the
latest events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from handlers.oversight.facts import TRACKED, Event, Fact, MemberInfo, TaskInfo, derive
from storage.models import AssignmentMember, AuditEvent, InspectionRecord, PreNotice, Rectification
from storage.models.oversight import OversightCursor, OversightFact
from storage.models.tasks import Task
from storage.upsert import insert_ignore

CURSOR = "facts"
_CHUNK = 500


class RowLookup:
    """``facts.Lookup`` over the database, filled in bulk for a batch of events (one query per
    entity type instead of one per event)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.tasks: dict[int, TaskInfo] = {}
        self.records: dict[int, int] = {}
        self.members: dict[int, MemberInfo] = {}
        self.notices: dict[int, tuple[int, int]] = {}
        self.rects: dict[int, tuple[int, int | None]] = {}

    def prefetch(self, events: Iterable[Event]) -> None:
        wanted: dict[str, set[int]] = {
            "task": set(),
            "record": set(),
            "member": set(),
            "notice": set(),
            "rect": set(),
        }
        for event in events:
            try:
                entity = int(event.entity_id)
            except ValueError:
                continue
            if event.action.startswith("task."):
                wanted["task"].add(entity)
            elif event.action == "record.submit":
                wanted["record"].add(entity)
            elif event.action == "dispatch.accept":
                wanted["member"].add(entity)
            elif event.action == "prenotice.served":
                wanted["notice"].add(entity)
            elif event.action.startswith("rectification."):
                wanted["rect"].add(entity)
        self._load(
            wanted["record"] - self.records.keys(),
            select(InspectionRecord.id, InspectionRecord.task_id),
            InspectionRecord.id,
            lambda row: self.records.__setitem__(row[0], row[1]),
        )
        self._load(
            wanted["member"] - self.members.keys(),
            select(AssignmentMember.id, AssignmentMember.unit_id, AssignmentMember.dispatched_at),
            AssignmentMember.id,
            lambda row: self.members.__setitem__(row[0], MemberInfo(row[1], row[2])),
        )
        self._load(
            wanted["notice"] - self.notices.keys(),
            select(PreNotice.id, PreNotice.task_id, PreNotice.object_id),
            PreNotice.id,
            lambda row: self.notices.__setitem__(row[0], (row[1], row[2])),
        )
        self._load(
            wanted["rect"] - self.rects.keys(),
            select(Rectification.id, Rectification.task_id, Rectification.unit_id),
            Rectification.id,
            lambda row: self.rects.__setitem__(row[0], (row[1], row[2])),
        )
        tasks = wanted["task"] | set(self.records.values()) | {task for task, _ in self.rects.values()}
        tasks |= {task for task, _ in self.notices.values()}
        self._load(
            tasks - self.tasks.keys(),
            select(Task.id, Task.lead_unit_id, Task.window_end),
            Task.id,
            lambda row: self.tasks.__setitem__(row[0], TaskInfo(row[1], row[2])),
        )

    def _load(self, ids: set[int], query: object, column: object, keep: object) -> None:
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            for row in self.session.execute(query.where(column.in_(chunk))):  # type: ignore[attr-defined]
                keep(row)  # type: ignore[operator]

    # -- facts.Lookup ---------------------------------------------------------------------------
    def task(self, task_id: int) -> TaskInfo | None:
        if task_id not in self.tasks:
            row = self.session.execute(
                select(Task.lead_unit_id, Task.window_end).where(Task.id == task_id)
            ).first()
            if row is None:
                return None
            self.tasks[task_id] = TaskInfo(row[0], row[1])
        return self.tasks[task_id]

    def record_task(self, record_id: int) -> int | None:
        return self.records.get(record_id)

    def member(self, member_id: int) -> MemberInfo | None:
        return self.members.get(member_id)

    def notice(self, notice_id: int) -> tuple[int, int] | None:
        return self.notices.get(notice_id)

    def rectification(self, rect_id: int) -> tuple[int, int | None] | None:
        return self.rects.get(rect_id)


def _cursor(session: Session, now: datetime) -> OversightCursor:
    insert_ignore(
        session,
        OversightCursor,
        {"name": CURSOR, "last_audit_id": 0, "updated_at": now},
        conflict_column="name",
    )
    return session.execute(
        select(OversightCursor).where(OversightCursor.name == CURSOR).with_for_update()
    ).scalar_one()


def catch_up(session: Session, *, tz: str, now: datetime, batch: int = 5000, limit: int | None = None) -> int:
    """Derive the facts of every tracked audit event after the cursor; returns events read.

    Runs in the caller's transaction (the facts commit with whatever else it does). ``limit``
    bounds one run (the ticker keeps its transactions short); None reads to the end.
    """
    cursor = _cursor(session, now)
    read = 0
    while limit is None or read < limit:
        size = batch if limit is None else min(batch, limit - read)
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.at, AuditEvent.body)
            .where(AuditEvent.id > cursor.last_audit_id, AuditEvent.action.in_(TRACKED))
            .order_by(AuditEvent.id)
            .limit(size)
        ).all()
        if not rows:
            break
        events = [Event.from_body(row.id, row.at, row.body) for row in rows]
        write_facts(session, events, tz=tz)
        cursor.last_audit_id = rows[-1].id
        cursor.updated_at = now
        read += len(rows)
        if len(rows) < size:
            break
    session.flush()
    return read


def write_facts(session: Session, events: list[Event], *, tz: str) -> int:
    lookup = RowLookup(session)
    lookup.prefetch(events)
    facts: list[Fact] = [fact for event in events for fact in derive(event, lookup, tz)]
    if facts:
        session.execute(insert(OversightFact.__table__), [fact.row() for fact in facts])
    return len(facts)


def rebuild(session: Session, *, tz: str, now: datetime) -> int:
    """Forget every fact and derive them again from the whole chain (the table is derived data)."""
    cursor = _cursor(session, now)
    session.execute(delete(OversightFact))
    cursor.last_audit_id = 0
    session.flush()
    return catch_up(session, tz=tz, now=now)
