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
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Dialect

from bot.context import Context, UserError
from storage import raw
from storage.models import (
    AssignmentMember,
    ChatIdentity,
    Evidence,
    InspectionObject,
    InspectionRecord,
    Inspector,
    Person,
    RecordVersion,
)
from storage.models.directory import certified
from storage.models.draw import Assignment
from storage.models.tasks import Task
from storage.nested import Shape

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


class EvidenceRow(NamedTuple):
    id: int
    kind: str
    role: str | None
    sha256: str | None
    state: str


@dataclass(frozen=True)
class Prefetched:
    """What the form's lock-free read brought along with the record on PostgreSQL (``peek``
    with a submission id), so that the checks and the writes need not ask for it."""

    instance_id: str
    known: VersionRow | None  # the version stored under this submission id, if any
    current: VersionRow | None  # the record's current version
    evidence: list[EvidenceRow]
    version_id: int  # the id a new version takes, drawn from its sequence


@dataclass
class RowsLoaded:
    """``records.Loaded`` for the form's submission: the same names, plain rows."""

    record: RecordRow
    task: TaskRow
    assignment: AssignmentRow
    obj: ObjectRow
    team: list[TeamMember]
    prefetched: Prefetched | None = None

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
_TEAM_FROM = (
    AssignmentMember.__table__.join(Inspector.__table__, _I.id == _M.inspector_id)
    .join(Person.__table__, _P.id == _I.person_id)
    .outerjoin(ChatIdentity.__table__, and_(_C.person_id == _I.person_id, _C.corp_id == bindparam("corp_id")))
)
# not ``in_``: its expanding parameter would make the text depend on the values (storage.raw)
_ON_SLOT = or_(*(_M.state == state for state in ON_TEAM))
_TEAM_ORDER = (_M.position, _M.id, _C.id)
_TEAM_SHAPE = Shape(
    (
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
)
_TEAM = (
    select(*_TEAM_SHAPE.columns)
    .select_from(_TEAM_FROM)
    .where(_M.assignment_id == bindparam("assignment_id"), _ON_SLOT)
    .order_by(*_TEAM_ORDER)
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
_E = Evidence.__table__.c
_EVIDENCE_SHAPE = Shape((_E.id, _E.kind, _E.role, _E.sha256, _E.state))
EVIDENCE = select(*_EVIDENCE_SHAPE.columns).where(_E.record_id == bindparam("record_id")).order_by(_E.id)
# PostgreSQL: ``peek`` and everything a submission then asks for, in one statement (storage.nested).
_VERSION_SHAPE = Shape(_VERSION_COLUMNS)
_V_TABLE = RecordVersion.__table__
_PEEK_ALL = _PEEK_RECORD.add_columns(
    _TEAM_SHAPE.many(_TEAM_FROM, _M.assignment_id == _R.assignment_id, _ON_SLOT, order_by=_TEAM_ORDER),
    _VERSION_SHAPE.one(_V_TABLE, _V.instance_id == bindparam("instance_id")),
    _VERSION_SHAPE.one(_V_TABLE, _V.id == _R.current_version_id),
    _EVIDENCE_SHAPE.many(Evidence.__table__, _E.record_id == _R.id, order_by=(_E.id,)),
    func.nextval(func.pg_get_serial_sequence(_V_TABLE.name, _V.id.name)),
)
_RETIRE = update(RecordVersion.__table__).where(_V.id == bindparam("version_id")).values(current=False)
_V_INSERT = ("record_id", "version", "instance_id", "deprecated_id", "content", "content_hash", "evidence",
             "via", "current", "submitted_by_person_id", "submitted_at")  # fmt: skip
_INSERT_VERSION = (
    RecordVersion.__table__.insert()
    .values({name: bindparam(name, type_=_V[name].type) for name in _V_INSERT})
    .returning(_V.id)
)
# With the id drawn beforehand (``Prefetched.version_id``): nothing to wait for.
_INSERT_VERSION_WITH_ID = RecordVersion.__table__.insert().values(
    {name: bindparam(name, type_=_V[name].type) for name in ("id", *_V_INSERT)}
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


def peek(ctx: Context, record_id: int, *, instance_id: str | None = None) -> RowsLoaded:
    """The same as ``lock`` without taking locks (two statements), for a submission that is
    decided first and stored after with a guarded update (``handlers/results/quick.py``).

    With ``instance_id`` on PostgreSQL: one statement, which also brings the ``Prefetched``
    answers for that submission id."""
    if instance_id is not None and raw.dialect(ctx.session).name == "postgresql":
        return _peek_all(ctx, record_id, instance_id)
    row = raw.first(ctx.session, _PEEK_RECORD, {"record_id": record_id})
    if row is None:
        raise UserError("找不到这条检查记录。")
    return _loaded(ctx, row[:-1], TaskRow(row[1], row[-1]))


def _peek_all(ctx: Context, record_id: int, instance_id: str) -> RowsLoaded:
    params = {"record_id": record_id, "instance_id": instance_id, "corp_id": ctx.settings.corp_id}
    row = raw.first(ctx.session, _PEEK_ALL, params)
    if row is None:
        raise UserError("找不到这条检查记录。")
    team, known, current, evidence, version_id = row[-5:]
    decode = _decoders(raw.dialect(ctx.session))
    loaded = _loaded(ctx, row[:-6], TaskRow(row[1], row[-6]), [decode.team(found) for found in team or ()])
    loaded.prefetched = Prefetched(
        instance_id,
        None if known is None else VersionRow(*decode.version(known)),
        None if current is None else VersionRow(*decode.version(current)),
        [EvidenceRow(*decode.evidence(found)) for found in evidence or ()],
        int(version_id),
    )
    return loaded


class _Decoders(NamedTuple):
    team: Any
    version: Any
    evidence: Any


@cache
def _decoders(dialect: Dialect) -> _Decoders:
    return _Decoders(
        _TEAM_SHAPE.decoder(dialect), _VERSION_SHAPE.decoder(dialect), _EVIDENCE_SHAPE.decoder(dialect)
    )


def _loaded(
    ctx: Context, row: tuple[Any, ...], task: TaskRow, team_rows: list[tuple[Any, ...]] | None = None
) -> RowsLoaded:
    """``team_rows``: as ``_TEAM`` returns them; read here when not given."""
    width = len(_RECORD_COLUMNS)
    record = RecordRow(*row[:width])
    planned_day, name, address = row[width:]
    if team_rows is None:
        team_rows = raw.fetch(
            ctx.session, _TEAM, {"assignment_id": record.assignment_id, "corp_id": ctx.settings.corp_id}
        )
    team: dict[int, TeamMember] = {}
    for found in team_rows:
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


def add_version(
    ctx: Context, current: VersionRow | None, values: dict[str, Any], *, version_id: int | None = None
) -> VersionRow:
    """Store a new current version (the one it replaces stops being current). With
    ``version_id`` (``Prefetched``) nothing waits for an answer (``raw.send``)."""
    if version_id is not None:
        if current is not None:
            raw.send(ctx.session, _RETIRE, {"version_id": current.id})
        raw.send(ctx.session, _INSERT_VERSION_WITH_ID, {**values, "id": version_id})
    else:
        if current is not None:
            raw.run(ctx.session, _RETIRE, {"version_id": current.id})
        inserted = raw.first(ctx.session, _INSERT_VERSION, values)
        assert inserted is not None
        version_id = int(inserted[0])
    return VersionRow(
        version_id,
        values["record_id"],
        values["version"],
        values["instance_id"],
        values["content_hash"],
        values["submitted_by_person_id"],
        values["submitted_at"],
    )


# What a submission computes its writes from: a guarded update (``update_guarded``)
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
            ).returning(_R.id)
        _UPDATES[(names, guard)] = statement
    return statement


def update_record(ctx: Context, record: RecordRow, changes: dict[str, Any]) -> None:
    """Write ``changes`` to the record row and to ``record``: one UPDATE."""
    raw.run(ctx.session, _update_statement(frozenset(changes), False), {**changes, "record_id": record.id})
    for name, value in changes.items():
        setattr(record, name, value)


def update_guarded(ctx: Context, record: RecordRow, changes: dict[str, Any]) -> raw.Later | None:
    """``update_record`` only while the row still holds ``record``'s values of ``GUARDED``,
    sent without waiting (``record`` takes the changes at once). In a PostgreSQL batch the server
    checks and None is returned: if the record moved, the transaction fails with an error for
    which ``raw.missed`` is true. Elsewhere the answer's one row says it was written, no row that
    the record moved (the caller must then roll back)."""
    params = {**changes, "record_id": record.id}
    params.update({f"seen_{name}": getattr(record, name) for name in GUARDED})
    statement, checked = _guarded_statements(frozenset(changes))
    written = raw.send_expecting_one(ctx.session, statement, checked, params)
    for name, value in changes.items():
        setattr(record, name, value)
    return written


@cache
def _guarded_statements(names: frozenset[str]) -> tuple[Any, Any]:
    """The guarded UPDATE, and the same checked by the server (``raw.expecting_one``)."""
    statement = _update_statement(names, True)
    return statement, raw.expecting_one(statement, "inspection_record")
