"""A record locked for a submission from the mobile form, as plain rows instead of ORM objects.

The form's submit request is the busiest write of an inspection day (every team, every object,
at the end of each visit). Through the ORM its locked load of task, record, assignment, object and
team and the flush of the version cost most of its CPU; here the same locks are taken and the same
columns read with statements compiled once and run on the driver (``storage.raw``), into small
dataclasses that carry exactly what ``service.submit``, the rules and the page state read. The
card path and every other operation keep the ORM (``records.lock_loaded``).

Lock order is the one every writer follows: the task row, then the record row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update

from bot.context import Context, UserError
from storage import raw
from storage.models import (
    AssignmentMember,
    ChatIdentity,
    InspectionObject,
    InspectionRecord,
    Inspector,
    Person,
    RecordVersion,
)
from storage.models.directory import certified
from storage.models.draw import Assignment
from storage.models.tasks import Task

ON_TEAM = ("pending", "accepted")  # dispatched members still on the slot


@dataclass
class RecordRow:
    """The columns of ``inspection_record`` a submission reads or writes."""

    id: int
    task_id: int
    assignment_id: int
    object_id: int
    state: str
    items: list[dict[str, Any]]
    draft: dict[str, Any]
    draft_version: int
    draft_log: list[dict[str, Any]]
    version: int
    current_version_id: int | None
    started_at: datetime | None
    submitted_at: datetime | None
    return_reason: str | None
    updated_at: datetime


@dataclass(frozen=True)
class TaskRow:
    id: int
    number: str


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    planned_day: date


@dataclass(frozen=True)
class ObjectRow:
    id: int
    name: str
    address: str | None


@dataclass(frozen=True)
class MemberRow:
    id: int
    state: str


@dataclass(frozen=True)
class InspectorRow:
    id: int
    person_id: int
    cert_no: str | None
    cert_status: str
    cert_valid_from: date | None
    cert_valid_to: date | None
    auxiliary: bool
    active: bool

    def certified_on(self, day: date) -> bool:
        return certified(self, day)


@dataclass(frozen=True)
class TeamMember:
    """One member still on the slot: as ``records.Member``, with the person at hand."""

    member: MemberRow
    inspector: InspectorRow
    staff_id: str | None
    name: str
    person_active: bool


@dataclass(frozen=True)
class PersonRow:
    """The person a form link names (the acting inspector)."""

    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class VersionRow:
    """A stored version, as far as a submission compares against it."""

    id: int
    record_id: int
    version: int
    instance_id: str
    content_hash: str
    submitted_by_person_id: int
    submitted_at: datetime


@dataclass
class RowsLoaded:
    """``records.Loaded`` for the form's submission: the same names, plain rows."""

    record: RecordRow
    task: TaskRow
    assignment: AssignmentRow
    obj: ObjectRow
    team: list[TeamMember]

    def member_for(self, person_id: int | None) -> TeamMember | None:
        return next((m for m in self.team if m.inspector.person_id == person_id), None)


_R = InspectionRecord.__table__.c
_RECORD_COLUMNS = (
    "id",
    "task_id",
    "assignment_id",
    "object_id",
    "state",
    "items",
    "draft",
    "draft_version",
    "draft_log",
    "version",
    "current_version_id",
    "started_at",
    "submitted_at",
    "return_reason",
    "updated_at",
)
_V = RecordVersion.__table__.c
_VERSION_COLUMNS = (
    _V.id,
    _V.record_id,
    _V.version,
    _V.instance_id,
    _V.content_hash,
    _V.submitted_by_person_id,
    _V.submitted_at,
)
_T = Task.__table__.c
_LOCK_TASK = (
    select(_T.id, _T.number)
    .where(_T.id == select(_R.task_id).where(_R.id == bindparam("record_id")).scalar_subquery())
    # FOR SHARE: submissions for other objects of the task go on side by side; whatever changes
    # the task or its slots (redraw, cancel, the results job) takes FOR UPDATE and waits for them.
    .with_for_update(read=True)
)
_A = Assignment.__table__.c
_O = InspectionObject.__table__.c
_READ_RECORD = (
    select(*(_R[name] for name in _RECORD_COLUMNS), _A.planned_day, _O.name, _O.address)
    .join_from(InspectionRecord.__table__, Assignment.__table__, _A.id == _R.assignment_id)
    .join(InspectionObject.__table__, _O.id == _R.object_id)
    .where(_R.id == bindparam("record_id"))
)
_LOCK_RECORD = _READ_RECORD.with_for_update(of=InspectionRecord.__table__)
# The same read without locks, the task's number joined in (``peek``).
_PEEK_RECORD = _READ_RECORD.add_columns(_T.number).join(Task.__table__, _T.id == _R.task_id)
_M = AssignmentMember.__table__.c
_I = Inspector.__table__.c
_P = Person.__table__.c
_C = ChatIdentity.__table__.c
_TEAM = (
    select(
        _M.id,
        _M.state,
        _I.id,
        _I.person_id,
        _I.cert_no,
        _I.cert_status,
        _I.cert_valid_from,
        _I.cert_valid_to,
        _I.auxiliary,
        _I.active,
        _C.staff_id,
        _P.name,
        _P.active,
    )
    .join_from(AssignmentMember.__table__, Inspector.__table__, _I.id == _M.inspector_id)
    .join(Person.__table__, _P.id == _I.person_id)
    .outerjoin(ChatIdentity.__table__, and_(_C.person_id == _I.person_id, _C.corp_id == bindparam("corp_id")))
    # not ``in_``: its expanding parameter would make the text depend on the values (storage.raw)
    .where(_M.assignment_id == bindparam("assignment_id"), or_(*(_M.state == state for state in ON_TEAM)))
    .order_by(_M.position, _M.id, _C.id)
)
_PERSON = (
    select(_P.id, _P.name, _P.active, _C.staff_id)
    .outerjoin_from(
        Person.__table__,
        ChatIdentity.__table__,
        and_(_C.person_id == _P.id, _C.corp_id == bindparam("corp_id")),
    )
    .where(_P.id == bindparam("person_id"))
    .order_by(_C.id)
)
_BY_INSTANCE = select(*_VERSION_COLUMNS).where(_V.instance_id == bindparam("instance_id"))
_BY_ID = select(*_VERSION_COLUMNS).where(_V.id == bindparam("version_id"))
_RETIRE = update(RecordVersion.__table__).where(_V.id == bindparam("version_id")).values(current=False)
_V_INSERT = ("record_id", "version", "instance_id", "deprecated_id", "content", "content_hash", "evidence",
             "via", "current", "submitted_by_person_id", "submitted_at")  # fmt: skip
_INSERT_VERSION = (
    RecordVersion.__table__.insert()
    .values({name: bindparam(name, type_=_V[name].type) for name in _V_INSERT})
    .returning(_V.id)
)


def person(session: Any, person_id: int, corp_id: str) -> tuple[PersonRow | None, str | None]:
    """The person and their chat user id in this corp (the first binding), or (None, None)."""
    found = raw.first(session, _PERSON, {"person_id": person_id, "corp_id": corp_id})
    if found is None:
        return None, None
    return PersonRow(found[0], found[1], bool(found[2])), found[3]


def act_as(ctx: Context, loaded: RowsLoaded, person_id: int) -> None:
    """Make the link's person the actor of ``ctx``: taken from the team when they are on it (the
    usual case, no statement), else looked up. An inactive person acts as nobody."""
    member = loaded.member_for(person_id)
    if member is not None:
        found: PersonRow | None = PersonRow(person_id, member.name, member.person_active)
        staff = member.staff_id
    else:
        found, staff = person(ctx.session, person_id, ctx.settings.corp_id)
    ctx.person = found if found is not None and found.active else None
    ctx.staff_id = staff


def lock(ctx: Context, record_id: int) -> RowsLoaded:
    """Task lock, then record lock, then the team: three statements."""
    session = ctx.session
    task = raw.first(session, _LOCK_TASK, {"record_id": record_id})
    if task is None:
        raise UserError("找不到这条检查记录。")
    row = raw.first(session, _LOCK_RECORD, {"record_id": record_id})
    if row is None:
        raise UserError("找不到这条检查记录。")
    return _loaded(ctx, row, TaskRow(*task))


def peek(ctx: Context, record_id: int) -> RowsLoaded:
    """The same as ``lock`` without taking locks (two statements), for a submission that is
    decided first and stored after with a guarded update (``handlers/results/quick.py``)."""
    row = raw.first(ctx.session, _PEEK_RECORD, {"record_id": record_id})
    if row is None:
        raise UserError("找不到这条检查记录。")
    return _loaded(ctx, row[:-1], TaskRow(row[1], row[-1]))


def _loaded(ctx: Context, row: tuple[Any, ...], task: TaskRow) -> RowsLoaded:
    session = ctx.session
    width = len(_RECORD_COLUMNS)
    record = RecordRow(*row[:width])
    planned_day, name, address = row[width:]
    team: dict[int, TeamMember] = {}
    for found in raw.fetch(
        session, _TEAM, {"assignment_id": record.assignment_id, "corp_id": ctx.settings.corp_id}
    ):
        if found[0] in team:  # a person bound twice in the corp: the first binding
            continue
        team[found[0]] = TeamMember(
            MemberRow(found[0], found[1]),
            InspectorRow(*found[2:8], bool(found[8]), bool(found[9])),
            found[10],
            found[11],
            bool(found[12]),
        )
    return RowsLoaded(
        record,
        task,
        AssignmentRow(record.assignment_id, planned_day),
        ObjectRow(record.object_id, name, address),
        list(team.values()),
    )


def version_by_instance(ctx: Context, instance_id: str) -> VersionRow | None:
    found = raw.first(ctx.session, _BY_INSTANCE, {"instance_id": instance_id})
    return None if found is None else VersionRow(*found)


def version_by_id(ctx: Context, version_id: int | None) -> VersionRow | None:
    if not version_id:
        return None
    found = raw.first(ctx.session, _BY_ID, {"version_id": version_id})
    return None if found is None else VersionRow(*found)


def add_version(ctx: Context, current: VersionRow | None, values: dict[str, Any]) -> VersionRow:
    """Store a new current version (the one it replaces stops being current)."""
    if current is not None:
        raw.run(ctx.session, _RETIRE, {"version_id": current.id})
    inserted = raw.first(ctx.session, _INSERT_VERSION, values)
    assert inserted is not None
    return VersionRow(
        int(inserted[0]),
        values["record_id"],
        values["version"],
        values["instance_id"],
        values["content_hash"],
        values["submitted_by_person_id"],
        values["submitted_at"],
    )


# What a submission computes its writes from: a guarded update (``update_record(guard=True)``)
# writes only while the row still holds the values read. Every writer of a record changes one of
# these: a change to the draft or its log bumps ``draft_version`` (the optimistic-concurrency
# contract the cards' stale check already relies on), a review or a withdrawal changes ``state``,
# a submission ``version``; ``items`` is fixed when the record opens.
GUARDED = ("state", "version", "current_version_id", "draft_version", "started_at")
_UPDATES: dict[tuple[frozenset[str], bool], Any] = {}


def _update_statement(names: frozenset[str], guard: bool) -> Any:
    statement = _UPDATES.get((names, guard))
    if statement is None:
        statement = (
            update(InspectionRecord.__table__)
            .where(_R.id == bindparam("record_id"))
            .values({name: bindparam(name, type_=_R[name].type) for name in sorted(names)})
        )
        if guard:  # NULL-safe: IS NOT DISTINCT FROM on PostgreSQL, IS on SQLite
            statement = statement.where(
                *(
                    _R[name].is_not_distinct_from(bindparam(f"seen_{name}", type_=_R[name].type))
                    for name in GUARDED
                )
            )
        _UPDATES[(names, guard)] = statement
    return statement


def update_record(ctx: Context, record: RecordRow, changes: dict[str, Any], *, guard: bool = False) -> bool:
    """Write ``changes`` to the record row and to ``record``: one UPDATE. With ``guard``, only
    if the row still holds ``record``'s values of ``GUARDED``; returns whether it was written."""
    params = {**changes, "record_id": record.id}
    if guard:
        params.update({f"seen_{name}": getattr(record, name) for name in GUARDED})
    if raw.run(ctx.session, _update_statement(frozenset(changes), guard), params) != 1:
        return False
    for name, value in changes.items():
        setattr(record, name, value)
    return True
