"""The draw's inputs, read from the directory as it stands at the moment of the draw.

The object pool can hold a million rows, so it is read as two texts built by the database
(comma-separated ids and one stratum letter per object, both in ascending id order) instead of
a million Python rows: on SQLite the table is scanned in rowid order (``NOT INDEXED``), on
PostgreSQL subqueries ordered by id feed ``string_agg``, one per id range, in parallel. The same
predicate decides whether a handful of given objects are in the pool (``in_pool``), so the two
cannot drift apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session

from handlers.calendar.workdays import Calendar
from storage.models import Assignment, AssignmentMember, InspectionObject, Inspector, InspectorConflict
from storage.models.tasks import Task, TaskUnit

TRIGGERED_SOURCES = ("complaint", "referral")  # 无事不扰 objects are drawn only on a trigger (BR-12)
LIVE_MEMBER_STATES = ("drawn", "pending", "accepted")
# A task counts as a visit once it has been dispatched (a draw alone is still tentative).
VISITED_STATES = ("dispatched", "in_progress", "submitted", "reviewed", "closed")
_CHUNK = 900


@dataclass(frozen=True)
class PoolFilter:
    day: date  # flags (重点监管, 无事不扰 ...) are read as they hold on this day
    entity_types: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    area_codes: tuple[str, ...] = ()
    include_no_disturb: bool = False


def pool_filter(task: Task, day: date) -> PoolFilter:
    scenario = task.scenario
    return PoolFilter(
        day=day,
        entity_types=tuple(sorted(scenario.object_types or ())),
        industries=tuple(sorted(scenario.industries or ())),
        area_codes=tuple(sorted(task.area_codes or ())),
        include_no_disturb=task.source in TRIGGERED_SOURCES,
    )


def _flag(name: str) -> str:
    """True when the flag holds on :day; NULL (not true) when it was never set."""
    return f"(o.{name}_from <= :day AND coalesce(o.{name}_to, :day) >= :day)"


# The stratum: F when 重点监管 / 经营异常 / 严重失信 holds on :day, else the risk class as stored
# (U when unknown). The first branch is the common case and costs three NULL tests per row,
# which halves the time of this expression over a million rows.
STRATUM_SQL = (
    "CASE WHEN o.key_supervision_from IS NULL AND o.abnormal_from IS NULL AND o.dishonest_from IS NULL "
    "THEN coalesce(o.risk_class, 'U') "
    f"WHEN {_flag('key_supervision')} OR {_flag('abnormal')} OR {_flag('dishonest')} THEN 'F' "
    "ELSE coalesce(o.risk_class, 'U') END"
)
# Not flagged 无事不扰 on :day (written positively: NOT of a NULL would drop the row).
NOT_NO_DISTURB_SQL = "(o.no_disturb_from IS NULL OR o.no_disturb_from > :day OR o.no_disturb_to < :day)"


def _where(flt: PoolFilter) -> tuple[str, dict[str, Any], list[str]]:
    clauses = ["o.active = :active", "o.registration_status = :status"]
    values: dict[str, Any] = {"active": True, "status": "存续", "day": flt.day}
    expanding: list[str] = []
    for column, name, items in (
        ("entity_type", "types", flt.entity_types),
        ("industry", "industries", flt.industries),
        ("region_code", "areas", flt.area_codes),
    ):
        if items:
            clauses.append(f"o.{column} IN :{name}")
            values[name] = list(items)
            expanding.append(name)
    if not flt.include_no_disturb:
        clauses.append(NOT_NO_DISTURB_SQL)
    return " AND ".join(clauses), values, expanding


def _statement(sql: str, expanding: Sequence[str]) -> Any:
    params = [bindparam("day", type_=Date)] + [bindparam(name, expanding=True) for name in expanding]
    return text(sql).bindparams(*params)


@dataclass(frozen=True)
class ObjectPoolText:
    size: int
    ids: str  # "3,5,8"
    strata: str  # "DAB"


# The PostgreSQL pool read is split into this many id ranges, aggregated side by side.
POOL_PARTS = 4


def object_pool(session: Session, flt: PoolFilter) -> ObjectPoolText:
    where, values, expanding = _where(flt)
    if session.get_bind().dialect.name == "postgresql":
        return _object_pool_postgres(session, where, values, expanding)
    sql = (
        f"SELECT count(*), group_concat(o.id, ','), group_concat({STRATUM_SQL}, '') "
        f"FROM inspection_object AS o NOT INDEXED WHERE {where}"
    )
    size, ids, strata = session.execute(_statement(sql, expanding), values).one()
    return ObjectPoolText(int(size or 0), ids or "", strata or "")


def _object_pool_postgres(
    session: Session, where: str, values: dict[str, Any], expanding: list[str]
) -> ObjectPoolText:
    """The pool as ``POOL_PARTS`` id ranges in one ``UNION ALL`` statement.

    ``string_agg`` cannot run in parallel before PostgreSQL 16, so a single ordered aggregate over
    a million rows ran in one process while the naive ``ORDER BY random()`` used the parallel
    workers. Each branch of a ``UNION ALL`` aggregates its own range, and the planner hands the
    branches to parallel workers (Parallel Append); one statement means one snapshot, and the
    parts joined in range order are exactly the single ordered aggregate. The outer ranges are
    open, so the split points (from the primary key) decide only the balance, never membership.
    """
    low, high = session.execute(text("SELECT min(id), max(id) FROM inspection_object")).one()
    if low is None:
        return ObjectPoolText(0, "", "")
    step = (high - low + 1) / POOL_PARTS
    bounds = [low + int(step * part) for part in range(1, POOL_PARTS)]
    ranges = [
        " AND ".join(
            ([f"o.id >= :b{part - 1}"] if part > 0 else [])
            + ([f"o.id < :b{part}"] if part < len(bounds) else [])
        )
        for part in range(len(bounds) + 1)
    ]
    sql = " UNION ALL ".join(
        f"SELECT {part} AS part, count(*) AS n, string_agg(p.id::text, ',') AS ids, string_agg(p.s, '') AS s "
        f"FROM (SELECT o.id AS id, {STRATUM_SQL} AS s FROM inspection_object AS o "
        f"WHERE {where} AND {span} ORDER BY o.id) AS p"
        for part, span in enumerate(ranges)
    )
    values = {**values, **{f"b{index}": bound for index, bound in enumerate(bounds)}}
    rows = sorted(session.execute(_statement(sql, expanding), values).all())
    return ObjectPoolText(
        sum(int(row.n) for row in rows),
        ",".join(row.ids for row in rows if row.ids),
        "".join(row.s for row in rows if row.s),
    )


def in_pool(session: Session, flt: PoolFilter, object_ids: Iterable[int]) -> set[int]:
    """Which of the given objects the pool predicate admits (same SQL as ``object_pool``)."""
    where, values, expanding = _where(flt)
    found: set[int] = set()
    ids = sorted(set(object_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        statement = _statement(
            f"SELECT o.id FROM inspection_object AS o WHERE {where} AND o.id IN :ids", [*expanding, "ids"]
        )
        found.update(int(row[0]) for row in session.execute(statement, {**values, "ids": chunk}))
    return found


def object_details(session: Session, object_ids: Iterable[int]) -> dict[int, InspectionObject]:
    ids = sorted(set(object_ids))
    found: dict[int, InspectionObject] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(InspectionObject).where(InspectionObject.id.in_(ids[start : start + _CHUNK]))
        ).scalars()
        found.update({obj.id: obj for obj in rows})
    return found


# -- inspectors ---------------------------------------------------------------------------------
def participants(task: Task) -> list[int]:
    """The lead unit first, then the co-units that agreed, by id."""
    return [task.lead_unit_id, *sorted(u.unit_id for u in task.units if u.state == "agreed")]


def unit_tags(task: Task, units: Sequence[int]) -> dict[str, list[str]]:
    """The field tags (执法领域) each unit's items in the scenario need (BR-09)."""
    tags: dict[int, set[str]] = {unit: set() for unit in units}
    for item in task.scenario.items:
        owner = item.power_item.owner_unit_id
        if owner in tags:
            tags[owner].update(item.power_item.field_tags or ())
    return {str(unit): sorted(values) for unit, values in tags.items()}


def inspector_pool(session: Session, units: Sequence[int], start: date, end: date) -> list[list[Any]]:
    """Assignable inspectors of the units whose certificate is valid over the whole window.

    Mirrors ``Inspector.certified_on`` for both ends of the window (BR-05); the property test
    checks every drawn inspector against ``certified_on`` itself.
    """
    rows = session.execute(
        select(Inspector.id, Inspector.unit_id, Inspector.fields)
        .where(
            Inspector.unit_id.in_(list(units)),
            Inspector.active.is_(True),
            Inspector.auxiliary.is_(False),
            Inspector.assignable.is_(True),
            Inspector.cert_no.is_not(None),
            Inspector.cert_status == "valid",
            Inspector.cert_valid_from <= start,
            Inspector.cert_valid_to >= end,
        )
        .order_by(Inspector.id)
    )
    return [[int(i), int(u), sorted(set(tags or ()))] for i, u, tags in rows]


def conflicts(session: Session, object_ids: Iterable[int], inspector_ids: set[int]) -> list[list[int]]:
    ids = sorted(set(object_ids))
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(InspectorConflict.inspector_id, InspectorConflict.object_id).where(
                InspectorConflict.object_id.in_(ids[start : start + _CHUNK])
            )
        )
        pairs.update((int(i), int(o)) for i, o in rows if i in inspector_ids)
    return [list(pair) for pair in sorted(pairs)]


def loads(
    session: Session,
    units: Sequence[int],
    days: Sequence[str],
    *,
    inspector_ids: set[int],
    skip_task_id: int | None = None,
    skip_assignment_ids: Iterable[int] = (),
) -> list[list[Any]]:
    """Teams each inspector already holds on each planned day (other tasks, other slots).

    Three simple queries joined here rather than one three-way join: right after a big draw the
    new rows have no statistics yet, and PostgreSQL then picks a nested loop that takes 250 ms.
    """
    skip = set(skip_assignment_ids)
    query = select(Assignment.id, Assignment.planned_day, Assignment.task_id).where(
        Assignment.state != "superseded",
        Assignment.planned_day.in_([date.fromisoformat(d) for d in days]),
    )
    if skip_task_id is not None:
        query = query.where(Assignment.task_id != skip_task_id)
    slots = {int(i): (day.isoformat(), int(t)) for i, day, t in session.execute(query) if i not in skip}
    if not slots:
        return []
    task_ids = sorted({t for _, t in slots.values()})
    closed = set(
        session.execute(
            select(Task.id).where(Task.id.in_(task_ids), Task.state.in_(("cancelled", "closed")))
        ).scalars()
    )
    open_slots = sorted(i for i, (_, t) in slots.items() if t not in closed)
    counts: Counter[tuple[int, str]] = Counter()
    for start in range(0, len(open_slots), _CHUNK):
        rows = session.execute(
            select(AssignmentMember.inspector_id, AssignmentMember.assignment_id).where(
                AssignmentMember.assignment_id.in_(open_slots[start : start + _CHUNK]),
                AssignmentMember.unit_id.in_(list(units)),
                AssignmentMember.state.in_(LIVE_MEMBER_STATES),
            )
        )
        for inspector, assignment in rows:
            if inspector in inspector_ids:
                counts[(int(inspector), slots[assignment][0])] += 1
    return [[i, d, n] for (i, d), n in sorted(counts.items())]


def unit_census(
    session: Session, unit_id: int, start: date, end: date, tags: Sequence[str]
) -> dict[str, int]:
    """Why a unit's people are not in the pool: for the message that says who is missing."""
    people = list(
        session.execute(
            select(Inspector).where(Inspector.unit_id == unit_id, Inspector.active.is_(True))
        ).scalars()
    )
    staff = [p for p in people if not p.auxiliary]
    assignable = [p for p in staff if p.assignable]
    certified = [p for p in assignable if p.certified_on(start) and p.certified_on(end)]
    tagged = [p for p in certified if set(tags) <= set(p.fields or ())]
    return {
        "staff": len(staff),
        "assignable": len(assignable),
        "certified": len(certified),
        "tagged": len(tagged),
    }


# -- days and caps ------------------------------------------------------------------------------
def planned_days(start: date, end: date, calendar: Calendar | None = None) -> list[str]:
    """Working days of the window (all days if the window has none)."""
    calendar = calendar or Calendar()
    every = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    working = [day for day in every if calendar.is_workday(day)]
    return [day.isoformat() for day in (working or every)]


def onsite_visits(
    session: Session, *, year: int, object_ids: Iterable[int] | None, skip_task_id: int | None = None
) -> dict[tuple[int, int], int]:
    """(object, unit) -> on-site tasks this year in which the unit took part (BR-11).

    A joint visit counts once for every participating body (lead and agreed co-units). A task
    counts once it has been dispatched. ``object_ids`` None = every object.
    """
    base = (
        select(Assignment.task_id, Assignment.object_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(
            Assignment.state != "superseded",
            Task.method == "on_site",
            Task.state.in_(VISITED_STATES),
            Task.window_start >= date(year, 1, 1),
            Task.window_start <= date(year, 12, 31),
        )
    )
    if skip_task_id is not None:
        base = base.where(Task.id != skip_task_id)
    pairs: set[tuple[int, int]] = set()  # (task, object)
    if object_ids is None:
        pairs.update((int(t), int(o)) for t, o in session.execute(base))
    else:
        ids = sorted(set(object_ids))
        for start in range(0, len(ids), _CHUNK):
            query = base.where(Assignment.object_id.in_(ids[start : start + _CHUNK]))
            pairs.update((int(t), int(o)) for t, o in session.execute(query))
    if not pairs:
        return {}
    task_ids = sorted({t for t, _ in pairs})
    units: dict[int, set[int]] = {}
    for task_id, lead in session.execute(select(Task.id, Task.lead_unit_id).where(Task.id.in_(task_ids))):
        units.setdefault(task_id, set()).add(lead)
    for task_id, unit in session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id).where(
            TaskUnit.task_id.in_(task_ids), TaskUnit.state == "agreed"
        )
    ):
        units.setdefault(task_id, set()).add(unit)
    visits: Counter[tuple[int, int]] = Counter()
    for task_id, object_id in pairs:
        for unit in units.get(task_id, ()):
            visits[(object_id, unit)] += 1
    return dict(visits)
