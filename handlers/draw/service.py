"""Running the draw for a task and keeping its record (BR-04..BR-12).

Each function runs inside the caller's one transaction. A draw that cannot be made raises
``DrawFailed`` with a message for the lead unit (which unit lacks whom) before anything is
written, so a failed draw stores nothing.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.context import Context
from handlers.calendar.store import calendar_for
from handlers.draw import algorithm
from handlers.draw.canonical import Packing
from handlers.draw.pool import (
    conflicts,
    inspector_pool,
    loads,
    object_details,
    object_pool,
    onsite_visits,
    participants,
    planned_days,
    pool_filter,
    unit_census,
    unit_tags,
)
from handlers.tasks.service import today
from handlers.tasks.states import STATE_LABELS
from storage.models import Assignment, AssignmentMember, DrawRecord, InspectionObject, Unit
from storage.models.tasks import Task

LIVE = ("drawn", "pending", "accepted")
STRATUM_LABELS = {"F": "重点", "A": "A类", "B": "B类", "C": "C类", "D": "D类", "U": "未分类"}
REASON_LABELS = {
    "in_team": "已在本组",
    "excluded": "已表示无法参加",
    "tags": "不具备所需执法领域",
    "conflict": "与该对象有利害关系（已申报回避）",
    "jurisdiction": "属于该对象的管辖单位（所所交叉）",
    "load": "当天已满负荷",
}


class DrawFailed(Exception):
    """The draw could not be made; ``message`` says why, in words for the lead unit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Prepared:
    snapshot: dict[str, Any]
    result: dict[str, Any]
    objects: dict[int, InspectionObject]
    pool_size: int
    inspector_pool_size: int


def new_seed() -> str:
    """128 random bits, published with the draw (so the draw can be replayed, not predicted)."""
    return secrets.token_hex(16)


def object_count(task: Task, pool_size: int) -> int:
    if task.object_count:
        return int(task.object_count)
    ratio = Fraction(str(task.object_ratio or 0))
    return max(1, math.ceil(ratio * pool_size / 100))


def _params(ctx: Context, task: Task, units: list[int], days: list[str]) -> dict[str, Any]:
    return {
        "per_object": max(algorithm.MIN_TEAM, task.inspectors_per_object),
        "min_per_unit": max(0, ctx.settings.draw_min_per_unit),
        "mode": task.draw_mode,
        "units": units,
        "unit_tags": unit_tags(task, units),
        "days": days,
        "load_cap": ctx.settings.draw_load_cap_per_day,
        "weights": dict(sorted(ctx.settings.draw_risk_weights.items())),
        "first_slot": 1,
    }


def prepare(
    ctx: Context,
    task: Task,
    *,
    kind: str,
    seed: str,
    count: int | None = None,
    days: list[str] | None = None,
    exclude: list[int] | tuple[int, ...] = (),
    first_slot: int = 1,
    skip_task: bool = True,
    skip_assignments: tuple[int, ...] = (),
) -> Prepared:
    """Read the pool, draw objects, read the team inputs for them, draw teams. Writes nothing."""
    session = ctx.session
    day = today(ctx)
    flt = pool_filter(task, day)
    pool = object_pool(session, flt)
    if pool.size == 0:
        raise DrawFailed(
            f"{task.number}：没有符合条件的检查对象（场景的对象类型、行业和任务区域内没有在营对象），本次未抽取。"
        )
    units = participants(task)
    days = days or planned_days(
        task.window_start, task.window_end, calendar_for(session, task.window_start, task.window_end)
    )
    params = _params(ctx, task, units, days)
    params.update(count=count or object_count(task, pool.size), first_slot=first_slot)
    snapshot: dict[str, Any] = {
        "algorithm": algorithm.ALGORITHM_VERSION,
        "kind": kind,
        "task": {"id": task.id, "number": task.number},
        "drawn_on": day.isoformat(),
        "filter": {
            "entity_types": list(flt.entity_types),
            "industries": list(flt.industries),
            "area_codes": list(flt.area_codes),
            "include_no_disturb": flt.include_no_disturb,
        },
        "params": params,
        "objects": {"ids": pool.ids, "strata": pool.strata, "exclude": sorted(exclude)},
    }
    try:
        phase = algorithm.draw_slots(snapshot, seed)
    except algorithm.PoolTooSmall as exc:
        raise DrawFailed(
            f"{task.number}：符合条件的检查对象只有 {exc.available} 家，少于本次要抽取的 {exc.needed} 家，本次未抽取。"
        ) from None
    drawn = [slot["object"] for slot in phase["slots"]]
    objects = object_details(session, drawn)
    snapshot["details"] = {str(o): {"jur": objects[o].jurisdiction_unit_id} for o in drawn}
    inspectors = inspector_pool(session, units, task.window_start, task.window_end)
    ids = {row[0] for row in inspectors}
    snapshot["inspectors"] = inspectors
    snapshot["conflicts"] = conflicts(session, drawn, ids)
    snapshot["load"] = loads(
        session,
        units,
        days,
        inspector_ids=ids,
        skip_task_id=task.id if skip_task else None,
        skip_assignment_ids=skip_assignments,
    )
    try:
        result = algorithm.staff(snapshot, phase, seed)
    except algorithm.Shortage as exc:
        raise DrawFailed(explain(ctx, task, exc, objects, params)) from None
    return Prepared(snapshot, result, objects, pool.size, len(inspectors))


# -- explaining a shortage ----------------------------------------------------------------------
def _unit_name(session: Session, unit_id: int | None) -> str:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return unit.name if unit is not None else f"单位{unit_id}"


def requirement(task: Task, tags: list[str]) -> str:
    text = f"执法证在检查期间（{task.window_start.isoformat()}至{task.window_end.isoformat()}）有效"
    if tags:
        text += f"、具备「{'、'.join(tags)}」执法领域"
    return text + "的检查人员"


def _reasons(reasons: dict[str, int], cap: int) -> str:
    parts = []
    for key, count in reasons.items():
        label = REASON_LABELS.get(key, key)
        if key == "load":
            label = f"当天已参加 {cap} 组检查"
        parts.append(f"{count} 名{label}")
    return "；其余人员中，" + "，".join(parts) if parts else ""


def explain(
    ctx: Context,
    task: Task,
    shortage: algorithm.Shortage,
    objects: dict[int, InspectionObject],
    params: dict[str, Any],
    *,
    action: str = "配齐",
) -> str:
    """Which unit lacks whom, in the words the lead unit needs to fix it."""
    obj = objects.get(shortage.object_id)
    where = f"第 {shortage.slot} 户「{obj.name if obj else shortage.object_id}」（计划 {shortage.day}）"
    cap = int(params.get("load_cap", ctx.settings.draw_load_cap_per_day))
    if shortage.unit is None:
        return (
            f"{task.number}：无法为{where}{action} {shortage.needed} 名检查人员，参加单位合计只有 "
            f"{shortage.available} 名符合条件{_reasons(shortage.reasons, cap)}。本次未抽取，未保存任何结果。"
            "请补充人员名录或调整每户人数后重新抽取。"
        )
    tags = list(params.get("unit_tags", {}).get(str(shortage.unit), params.get("tags", [])))
    name = _unit_name(ctx.session, shortage.unit)
    census = unit_census(ctx.session, shortage.unit, task.window_start, task.window_end, tags)
    detail = (
        f"该单位在册检查人员 {census['staff']} 名，可参与抽检 {census['assignable']} 名，"
        f"执法证覆盖检查期间 {census['certified']} 名"
    )
    if tags:
        detail += f"，其中具备所需执法领域 {census['tagged']} 名"
    return (
        f"{task.number}：无法为{where}{action}检查人员。{name}缺少{requirement(task, tags)}，"
        f"需要 {shortage.needed} 名，可用 {shortage.available} 名。{detail}{_reasons(shortage.reasons, cap)}。"
        "本次未抽取，未保存任何结果。请补充或更新人员名录后重新抽取。"
    )


# -- recording ----------------------------------------------------------------------------------
def over_cap(ctx: Context, task: Task, object_ids: list[int], units: list[int]) -> list[dict[str, int]]:
    """Drawn objects the participating units already inspected on site ``cap`` times this year."""
    if task.method != "on_site":
        return []
    cap = ctx.settings.onsite_yearly_cap
    visits = onsite_visits(
        ctx.session, year=task.window_start.year, object_ids=object_ids, skip_task_id=task.id
    )
    return [
        {"object": o, "unit": u, "count": n}
        for (o, u), n in sorted(visits.items())
        if u in units and n >= cap and o in set(object_ids)
    ]


def record(
    ctx: Context,
    task: Task,
    prepared: Prepared,
    *,
    kind: str,
    seed: str,
    reason: str | None,
    warnings: list[dict[str, int]] | None = None,
    **links: int | None,
) -> tuple[DrawRecord, Packing]:
    """Insert the draw record. Its snapshot and hash are filled in by ``seal`` once the packing
    (compression in a thread) is done, so the caller can write the other rows meanwhile."""
    packing = Packing(prepared.snapshot)
    row = DrawRecord(
        task_id=task.id,
        kind=kind,
        state="current",
        algorithm_version=algorithm.ALGORITHM_VERSION,
        seed=seed,
        pool_size=prepared.pool_size,
        inspector_pool_size=prepared.inspector_pool_size,
        pool_hash="",
        snapshot=b"",
        result=prepared.result,
        warnings=warnings or [],
        reason=reason,
        operator=ctx.actor,
        operator_person_id=ctx.person.id if ctx.person else None,
        drawn_at=ctx.now,
        **links,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row, packing


def seal(ctx: Context, row: DrawRecord, packing: Packing) -> None:
    row.snapshot, row.pool_hash = packing.result()
    ctx.session.flush()


def create_assignments(
    ctx: Context,
    task: Task,
    row: DrawRecord,
    snapshot: dict[str, Any],
    result: dict[str, Any],
    first_slot: int,
) -> list[int]:
    """Insert the slots and their teams (two multi-row statements: a draw writes hundreds)."""
    units = {int(i): int(u) for i, u, _ in snapshot["inspectors"]}
    slots = result["slots"]
    if not slots:
        return []
    ids = list(
        ctx.session.execute(
            insert(Assignment.__table__).returning(Assignment.__table__.c.id, sort_by_parameter_order=True),
            [
                {
                    "task_id": task.id,
                    "slot": first_slot + index,
                    "object_id": slot["object"],
                    "planned_day": date.fromisoformat(slot["day"]),
                    "draw_id": row.id,
                    "state": "drawn",
                    "created_at": ctx.now,
                }
                for index, slot in enumerate(slots)
            ],
        ).scalars()
    )
    ctx.session.execute(
        insert(AssignmentMember.__table__),
        [
            {
                "assignment_id": assignment_id,
                "inspector_id": inspector,
                "unit_id": units[inspector],
                "position": position,
                "state": "drawn",
                "draw_id": row.id,
            }
            for assignment_id, slot in zip(ids, slots, strict=True)
            for position, inspector in enumerate(slot["team"], start=1)
        ],
    )
    return ids


def active_assignments(session: Session, task_id: int) -> list[Assignment]:
    return list(
        session.execute(
            select(Assignment)
            .where(Assignment.task_id == task_id, Assignment.state != "superseded")
            .order_by(Assignment.slot)
        ).scalars()
    )


def members_of(session: Session, assignment_ids: list[int]) -> dict[int, list[AssignmentMember]]:
    found: dict[int, list[AssignmentMember]] = {i: [] for i in assignment_ids}
    if not assignment_ids:
        return found
    rows = session.execute(
        select(AssignmentMember)
        .where(AssignmentMember.assignment_id.in_(assignment_ids))
        .order_by(AssignmentMember.assignment_id, AssignmentMember.position)
    ).scalars()
    for member in rows:
        found[member.assignment_id].append(member)
    return found


def records_of(session: Session, task_id: int) -> list[DrawRecord]:
    return list(
        session.execute(
            select(DrawRecord).where(DrawRecord.task_id == task_id).order_by(DrawRecord.id)
        ).scalars()
    )


def _summary(row: DrawRecord, reason: str | None) -> dict[str, Any]:
    return {
        "draw_id": row.id,
        "kind": row.kind,
        "seed": row.seed,
        "pool_hash": row.pool_hash,
        "pool_size": row.pool_size,
        "inspector_pool_size": row.inspector_pool_size,
        "slots": [[s["object"], s["team"]] for s in row.result.get("slots", [])],
        "reason": reason,
    }


# -- the draws ----------------------------------------------------------------------------------
def draw_task(ctx: Context, task: Task, *, seed: str | None = None, reason: str | None = None) -> DrawRecord:
    """Draw (or redraw) every slot of an approved task. The previous draw is kept, superseded."""
    if task.state != "approved":
        raise DrawFailed(
            f"任务当前状态为「{STATE_LABELS.get(task.state, task.state)}」，只有已批准、尚未分发的任务可以整体抽取。"
        )
    previous = [r for r in records_of(ctx.session, task.id) if r.state == "current"]
    if previous and not reason:
        raise DrawFailed("重新抽取需要写明理由。")
    seed = seed or new_seed()
    prepared = prepare(ctx, task, kind="full", seed=seed, skip_task=True)
    drawn = [s["object"] for s in prepared.result["slots"]]
    warnings = over_cap(ctx, task, drawn, participants(task))
    last_full = next((r for r in reversed(previous) if r.kind == "full"), None)
    row, packing = record(
        ctx,
        task,
        prepared,
        kind="full",
        seed=seed,
        reason=reason,
        warnings=warnings,
        supersedes_id=last_full.id if last_full else None,
    )
    for old in previous:
        old.state = "superseded"
        old.superseded_by_id = row.id
        old.superseded_at = ctx.now
    ctx.session.execute(
        update(Assignment)
        .where(Assignment.task_id == task.id, Assignment.state != "superseded")
        .values(state="superseded")
    )
    create_assignments(ctx, task, row, prepared.snapshot, prepared.result, 1)
    task.overcap_reason = None
    seal(ctx, row, packing)
    ctx.audit("draw.redraw" if previous else "draw.full", "task", task.id, detail=_summary(row, reason))
    return row


def redraw_slot(
    ctx: Context, task: Task, slot: int, reason: str, *, seed: str | None = None
) -> tuple[Assignment, Assignment, DrawRecord]:
    """Draw another object (and team) for one slot. Returns (old, new, record)."""
    if task.state not in ("approved", "dispatched"):
        raise DrawFailed(f"任务当前状态为「{STATE_LABELS.get(task.state, task.state)}」，不能重新抽取。")
    if not reason:
        raise DrawFailed("重新抽取需要写明理由。")
    active = active_assignments(ctx.session, task.id)
    target = next((a for a in active if a.slot == slot), None)
    if target is None:
        raise DrawFailed(f"{task.number} 没有第 {slot} 户。")
    seed = seed or new_seed()
    prepared = prepare(
        ctx,
        task,
        kind="slot",
        seed=seed,
        count=1,
        days=[target.planned_day.isoformat()],
        exclude=[a.object_id for a in active],
        first_slot=slot,
        skip_task=False,
        skip_assignments=(target.id,),
    )
    drawn = [s["object"] for s in prepared.result["slots"]]
    row, packing = record(
        ctx,
        task,
        prepared,
        kind="slot",
        seed=seed,
        reason=reason,
        warnings=over_cap(ctx, task, drawn, participants(task)),
        supersedes_id=target.draw_id,
        slot=slot,
    )
    target.state = "superseded"
    (new_id,) = create_assignments(ctx, task, row, prepared.snapshot, prepared.result, slot)
    seal(ctx, row, packing)
    new = ctx.session.get(Assignment, new_id)
    assert new is not None
    ctx.audit(
        "draw.slot",
        "task",
        task.id,
        detail={**_summary(row, reason), "slot": slot, "replaced": target.object_id},
    )
    return target, new, row
