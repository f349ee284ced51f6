"""Who a rectification concerns: the responsible unit, its head, the inspectors who issued the
order, and the re-check team (the original team, a teammate who left replaced under the draw
rules)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from handlers.draw import algorithm
from handlers.draw.pool import conflicts, inspector_pool, loads, unit_tags
from handlers.draw.service import Prepared, new_seed, record, seal
from handlers.tasks import service as tasks
from storage.identity import staff_ids_of
from storage.models import (
    ROLE_LEADER,
    Assignment,
    AssignmentMember,
    InspectionObject,
    InspectionRecord,
    Inspector,
    Person,
    PersonRole,
    Rectification,
    Unit,
)
from storage.models.tasks import Task


def responsible_unit(record: InspectionRecord, power_item_id: int, lead_unit_id: int) -> int:
    """The unit that owns the failed item (谁主管谁负责); the task's lead unit otherwise."""
    for item in record.items:
        if item.get("id") == power_item_id and item.get("unit_id"):
            return int(item["unit_id"])
    return lead_unit_id


def team_staff(session: Session, record_ids: Iterable[int], corp_id: str) -> dict[int, list[str]]:
    """Chat ids of each record's accepted team (the inspectors who issued the order)."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(InspectionRecord.id, Inspector.person_id)
        .join(AssignmentMember, AssignmentMember.assignment_id == InspectionRecord.assignment_id)
        .join(Inspector, Inspector.id == AssignmentMember.inspector_id)
        .where(InspectionRecord.id.in_(ids), AssignmentMember.state == "accepted")
        .order_by(InspectionRecord.id, AssignmentMember.position)
    ).all()
    staff = staff_ids_of(session, sorted({p for _, p in rows}), corp_id=corp_id)
    result: dict[int, list[str]] = {i: [] for i in ids}
    for record_id, person_id in rows:
        if person_id in staff:
            result[record_id].append(staff[person_id])
    return result


def heads(session: Session, unit_id: int) -> list[Person]:
    """The unit's head: its approver, else its leaders, else its admins."""
    unit = session.get(Unit, unit_id)
    found: list[Person] = []
    if unit is not None and unit.approver_person_id:
        person = session.get(Person, unit.approver_person_id)
        if person is not None and person.active:
            found.append(person)
    if not found:
        found = list(
            session.execute(
                select(Person)
                .join(PersonRole, PersonRole.person_id == Person.id)
                .where(PersonRole.role == ROLE_LEADER, Person.unit_id == unit_id, Person.active.is_(True))
                .distinct()
            ).scalars()
        )
    return found or tasks.unit_admins(session, [unit_id])


def heads_staff(ctx: Context, unit_id: int) -> list[str]:
    return tasks.staff_of(ctx, heads(ctx.session, unit_id))


def admins_staff(ctx: Context, unit_ids: Iterable[int]) -> list[str]:
    return tasks.staff_of(ctx, tasks.unit_admins(ctx.session, unit_ids))


def manages(ctx: Context, unit_id: int, task: Task | None = None) -> bool:
    """A unit admin of the responsible unit (or of the task's lead unit), or a leader."""
    person = ctx.person
    if person is None:
        return False
    if person.has_role(ROLE_LEADER):
        return True
    units = tasks.admin_unit_ids(person)
    return unit_id in units or (task is not None and task.lead_unit_id in units)


def is_head(ctx: Context, unit_id: int) -> bool:
    person = ctx.person
    if person is None:
        return False
    return person.has_role(ROLE_LEADER) or any(p.id == person.id for p in heads(ctx.session, unit_id))


@dataclass
class Mate:
    inspector_id: int
    unit_id: int
    person_id: int
    name: str
    cert: str
    replaces: int | None = None
    draw_id: int | None = None

    def as_json(self, staff: str | None) -> dict[str, Any]:
        return {
            "inspector_id": self.inspector_id,
            "unit_id": self.unit_id,
            "person_id": self.person_id,
            "name": self.name,
            "cert": self.cert,
            "staff_id": staff,
            "replaces": self.replaces,
            "draw_id": self.draw_id,
        }


def _on_duty(inspector: Inspector, day: date) -> bool:
    return bool(inspector.active and inspector.person.active and inspector.certified_on(day))


def recheck_team(ctx: Context, rect: Rectification, day: date) -> tuple[list[Mate], list[str]]:
    """The original accepted team for a re-check on ``day``. A member who left (inactive, or no
    valid certificate that day) is replaced by one of their unit drawn under the draw rules (a
    ``replacement`` draw record, so it can be verified like any other). Returns the team and
    the names of those who could not be replaced."""
    record = ctx.session.get(InspectionRecord, rect.record_id)
    assert record is not None
    assignment = ctx.session.get(Assignment, record.assignment_id)
    task = ctx.session.get(Task, rect.task_id)
    assert assignment is not None and task is not None
    members = list(
        ctx.session.execute(
            select(AssignmentMember)
            .where(AssignmentMember.assignment_id == assignment.id, AssignmentMember.state == "accepted")
            .order_by(AssignmentMember.position)
        ).scalars()
    )
    team: list[Mate] = []
    left: list[tuple[AssignmentMember, Inspector]] = []
    for member in members:
        inspector = ctx.session.get(Inspector, member.inspector_id)
        assert inspector is not None
        if _on_duty(inspector, day):
            team.append(_mate(inspector))
        else:
            left.append((member, inspector))
    unfilled: list[str] = []
    for member, inspector in left:
        newcomer = _replace(ctx, task, assignment, member, inspector, team, day)
        if newcomer is None:
            unfilled.append(inspector.person.name)
        else:
            team.append(newcomer)
    return team, unfilled


def _mate(inspector: Inspector, replaces: int | None = None, draw_id: int | None = None) -> Mate:
    return Mate(
        inspector.id,
        inspector.unit_id,
        inspector.person_id,
        inspector.person.name,
        inspector.cert_no or "",
        replaces,
        draw_id,
    )


def _replace(
    ctx: Context,
    task: Task,
    assignment: Assignment,
    member: AssignmentMember,
    leaver: Inspector,
    team: list[Mate],
    day: date,
) -> Mate | None:
    """One inspector of the leaver's unit, by the draw algorithm's replacement rule."""
    obj = ctx.session.get(InspectionObject, assignment.object_id)
    assert obj is not None
    unit = member.unit_id
    when = day.isoformat()
    pool = inspector_pool(ctx.session, [unit], day, day)
    ids = {row[0] for row in pool}
    keep = sorted(m.inspector_id for m in team)
    params = {
        "object": obj.id,
        "jur": obj.jurisdiction_unit_id,
        "day": when,
        "unit": unit,
        "tags": unit_tags(task, [unit])[str(unit)],
        "mode": task.draw_mode,
        "load_cap": ctx.settings.draw_load_cap_per_day,
        "team": keep,
        "exclude": sorted({leaver.id, *keep}),
        "slot": assignment.slot,
    }
    snapshot = {
        "algorithm": algorithm.ALGORITHM_VERSION,
        "kind": "replacement",
        "task": {"id": task.id, "number": task.number},
        "drawn_on": when,
        "params": params,
        "inspectors": pool,
        "conflicts": conflicts(ctx.session, [obj.id], ids),
        "load": loads(ctx.session, [unit], [when], inspector_ids=ids),
    }
    seed = new_seed()
    try:
        result = algorithm.draw(snapshot, seed)
    except algorithm.Shortage:
        ctx.audit(
            "draw.replacement_failed",
            "task",
            task.id,
            detail={"assignment_id": assignment.id, "purpose": "reinspection", "leaver": leaver.id},
        )
        return None
    row, packing = record(
        ctx,
        task,
        Prepared(snapshot, result, {obj.id: obj}, 1, len(pool)),
        kind="replacement",
        seed=seed,
        reason=f"复查：{leaver.person.name}已不在岗",
        amends_id=assignment.draw_id,
        assignment_id=assignment.id,
        slot=assignment.slot,
    )
    seal(ctx, row, packing)
    newcomer = ctx.session.get(Inspector, int(result["inspector"]))
    assert newcomer is not None
    ctx.audit(
        "draw.replacement",
        "task",
        task.id,
        detail={
            "draw_id": row.id,
            "seed": seed,
            "pool_hash": row.pool_hash,
            "replaces": leaver.id,
            "inspector": newcomer.id,
            "purpose": "reinspection",
        },
    )
    return _mate(newcomer, replaces=leaver.id, draw_id=row.id)
