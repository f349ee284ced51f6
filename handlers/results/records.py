"""Opening and reading records: one per dispatched object, shared by its team.

A record is opened when the first team member accepts; it keeps a copy of the scenario's items
as they stood then (forms number items by that list, so a later change to the scenario cannot
shift answers onto other items) and a draft prefilled from what the bot already knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, joinedload, lazyload

from bot.context import Context, UserError
from handlers.results.rows import EVIDENCE, ON_TEAM, EvidenceRow, RecordRow, RowsLoaded, TeamMember
from handlers.results.rules import FAILED, Facts, ItemFacts, MemberFacts, choices, default_deadline, text
from storage import raw
from storage.models import (
    NOTICES,
    Assignment,
    AssignmentMember,
    ChatIdentity,
    InspectionObject,
    InspectionRecord,
    Inspector,
    Person,
    RecordVersion,
)
from storage.models.tasks import Task

EDITABLE = ("draft", "submitted", "returned")
MULTI_FIELDS = ("inspectors", "codes", "notices")
FIELDS = (
    "method",
    "started_at",
    "ended_at",
    "place",
    "nobody_present",
    "present_name",
    "present_position",
    "present_phone",
    "inspectors",
    "codes",
    "notices",
    "signature",
    "witness",
    "narrative",
    "measures",
    "lat",
    "lon",
    "accuracy",
)
ITEM_FIELDS = ("", "_note", "_deadline", "_requirements")
FIELD_LABELS = {
    "method": "检查方式",
    "started_at": "开始时间",
    "ended_at": "结束时间",
    "place": "检查地点",
    "nobody_present": "无人在场",
    "present_name": "在场人员",
    "present_position": "在场人员职务",
    "present_phone": "在场人员电话",
    "inspectors": "检查人员",
    "codes": "结果代码",
    "notices": "告知事项",
    "signature": "签名情况",
    "witness": "见证人",
    "narrative": "检查情况",
    "measures": "采取的措施",
    "lat": "定位",
    "lon": "定位",
    "accuracy": "定位",
}


@dataclass
class Member:
    member: AssignmentMember
    inspector: Inspector
    staff_id: str | None

    @property
    def name(self) -> str:
        return self.inspector.person.name


@dataclass
class Loaded:
    """A record with what every operation on it needs, loaded in a few queries."""

    record: InspectionRecord
    task: Task
    assignment: Assignment
    obj: InspectionObject
    team: list[Member]

    def member_for(self, person_id: int | None) -> Member | None:
        return next((m for m in self.team if m.inspector.person_id == person_id), None)

    @property
    def accepted_staff(self) -> list[str]:
        return [m.staff_id for m in self.team if m.member.state == "accepted" and m.staff_id]


def local(ctx: Context, value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(ctx.settings.timezone))


def item_snapshot(task: Task) -> list[dict[str, Any]]:
    items = []
    for scenario_item in task.scenario.items:
        item = scenario_item.power_item
        points = list(item.check_points or [])
        if scenario_item.content and scenario_item.content not in points:
            points.append(scenario_item.content)
        items.append(
            {
                "id": item.id,
                "code": item.code,
                "name": item.name,
                "points": points,
                "basis": item.legal_basis,
                "provision": item.provision or item.legal_basis,
                "order_basis": item.order_basis or item.legal_basis,
                "default_days": item.rectify_days_default,
                "min_days": item.rectify_days_min,
                "unit_id": item.owner_unit_id,
            }
        )
    return items


def item_facts(record: InspectionRecord | RecordRow) -> list[ItemFacts]:
    return [ItemFacts(i["id"], i["name"], int(i["default_days"]), int(i["min_days"])) for i in record.items]


# Built once (building a statement costs more than running it on this path). Relationships the
# results code does not read are left lazy: the mapper's default eager loads (a task's units and
# scenario, a person's roles) cost a query or a join each on every submission.
_TEAM = (
    select(AssignmentMember, Inspector, ChatIdentity.staff_id)
    .join(Inspector, Inspector.id == AssignmentMember.inspector_id)
    .outerjoin(
        ChatIdentity,
        and_(ChatIdentity.person_id == Inspector.person_id, ChatIdentity.corp_id == bindparam("corp_id")),
    )
    .where(
        AssignmentMember.assignment_id == bindparam("assignment_id"),
        AssignmentMember.state.in_(ON_TEAM),
    )
    .order_by(AssignmentMember.position, AssignmentMember.id)
    .options(lazyload(Inspector.unit), joinedload(Inspector.person).lazyload("*"))
)
# The record's task, locked (FOR UPDATE OF task: PostgreSQL refuses to lock the nullable side of
# an outer join, and the record is locked next, in that order).
_LOCK_TASK = (
    select(Task)
    .where(
        Task.id
        == select(InspectionRecord.task_id)
        .where(InspectionRecord.id == bindparam("record_id"))
        .scalar_subquery()
    )
    .with_for_update(of=Task)
    .options(lazyload("*"))
    .execution_options(populate_existing=True)
)
_LOCK_RECORD = (
    select(InspectionRecord, Assignment, InspectionObject)
    .join(Assignment, Assignment.id == InspectionRecord.assignment_id)
    .join(InspectionObject, InspectionObject.id == InspectionRecord.object_id)
    .where(InspectionRecord.id == bindparam("record_id"))
    .with_for_update(of=InspectionRecord)
    .options(lazyload("*"))
    .execution_options(populate_existing=True)
)
PERSON_AND_STAFF = (
    select(Person, ChatIdentity.staff_id)
    .outerjoin(
        ChatIdentity, and_(ChatIdentity.person_id == Person.id, ChatIdentity.corp_id == bindparam("corp_id"))
    )
    .where(Person.id == bindparam("person_id"))
    .order_by(ChatIdentity.id)
    .options(lazyload("*"))
)


def load_team(ctx: Context, assignment_id: int) -> list[Member]:
    """The slot's members still on the team with their chat user ids, in one query."""
    rows = ctx.session.execute(_TEAM, {"assignment_id": assignment_id, "corp_id": ctx.settings.corp_id})
    team: dict[int, Member] = {}
    for member, inspector, staff_id in rows:
        if member.id not in team:  # a person bound twice in the corp: the first binding
            team[member.id] = Member(member, inspector, staff_id)
    return list(team.values())


def load(ctx: Context, record: InspectionRecord, *, task: Task | None = None) -> Loaded:
    task = task or ctx.session.get(Task, record.task_id)
    assignment = ctx.session.get(Assignment, record.assignment_id)
    obj = ctx.session.get(InspectionObject, record.object_id)
    assert task is not None and assignment is not None and obj is not None
    return Loaded(record, task, assignment, obj, load_team(ctx, assignment.id))


def lock_loaded(ctx: Context, record_id: int) -> Loaded:
    """Task lock, then record lock (the order every writer follows), with what every operation
    on the record needs: three statements."""
    task = ctx.session.execute(_LOCK_TASK, {"record_id": record_id}).scalar_one_or_none()
    if task is None:
        raise UserError("找不到这条检查记录。")
    row = ctx.session.execute(_LOCK_RECORD, {"record_id": record_id}).one_or_none()
    if row is None:
        raise UserError("找不到这条检查记录。")
    record, assignment, obj = row
    return Loaded(record, task, assignment, obj, load_team(ctx, assignment.id))


def for_assignment(session: Session, assignment_id: int) -> InspectionRecord | None:
    return session.execute(
        select(InspectionRecord).where(InspectionRecord.assignment_id == assignment_id)
    ).scalar_one_or_none()


def initial_draft(
    task: Task, assignment: Assignment, obj: InspectionObject, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the bot already knows: the task's method, the planned day, the object's address, the
    default deadlines and the usual notices. Everything else the team types."""
    day = assignment.planned_day
    draft: dict[str, Any] = {
        "method": task.method,
        "started_at": f"{day.isoformat()} 09:00",
        "place": obj.address or "",
        "notices": list(NOTICES),
        "signature": "paper",
    }
    for n, item in enumerate(items, start=1):
        facts = ItemFacts(item["id"], item["name"], int(item["default_days"]), int(item["min_days"]))
        draft[f"item_{n}_deadline"] = default_deadline(day, facts).isoformat()
    return draft


def open_record(ctx: Context, task: Task, assignment: Assignment) -> tuple[InspectionRecord, bool]:
    """The assignment's record, created on first use (the caller holds the task lock)."""
    record = for_assignment(ctx.session, assignment.id)
    if record is not None:
        return record, False
    obj = ctx.session.get(InspectionObject, assignment.object_id)
    assert obj is not None
    items = item_snapshot(task)
    record = InspectionRecord(
        task_id=task.id,
        assignment_id=assignment.id,
        object_id=assignment.object_id,
        state="draft",
        items=items,
        draft=initial_draft(task, assignment, obj, items),
        draft_version=0,
        draft_log=[],
        version=0,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(record)
    ctx.session.flush()
    ctx.audit(
        "record.open",
        "inspection_record",
        record.id,
        after={"task_id": task.id, "assignment_id": assignment.id, "object_id": obj.id, "items": len(items)},
    )
    return record, True


def require_member(ctx: Context, loaded: Loaded | RowsLoaded) -> Member | TeamMember:
    """Only the team edits its record (accepted members)."""
    member = loaded.member_for(ctx.person.id if ctx.person else None)
    if member is None or member.member.state != "accepted":
        ctx.audit(
            "access.denied",
            "inspection_record",
            loaded.record.id,
            detail={"staff_id": ctx.staff_id, "reason": "not_on_team"},
        )
        raise NotOnTeam("只有本户检查组中已接受派单的检查人员可以填写和提交这条检查记录。")
    return member


class NotOnTeam(UserError):
    """Raised after the refusal was audited; callers that must keep the audit row commit it."""


def evidence_rows(ctx: Context, record_id: int) -> list[EvidenceRow]:
    """Every evidence row of a record, oldest first (read on every submission: ``storage.raw``)."""
    return [EvidenceRow(*row) for row in raw.fetch(ctx.session, EVIDENCE, {"record_id": record_id})]


def rules_facts(ctx: Context, loaded: Loaded | RowsLoaded, evidence: list[Any] | None = None) -> Facts:
    """What ``rules.check`` needs to know; ``evidence`` = ``evidence_rows`` when the caller has them."""
    record = loaded.record
    day = loaded.assignment.planned_day
    rows = evidence_rows(ctx, record.id) if evidence is None else evidence
    signatures = {
        row.role: row.sha256
        for row in rows
        if row.kind == "signature" and row.state == "stored" and row.role and row.sha256
    }
    return Facts(
        items=item_facts(record),
        team=[MemberFacts(m.inspector.id, m.name, m.inspector.certified_on(day)) for m in loaded.team],
        now_local=local(ctx, ctx.now).replace(tzinfo=None),
        place_default=loaded.obj.address or "",
        signatures=signatures,
    )


def draft_values(values: dict[str, Any], item_count: int) -> dict[str, Any]:
    """The known form fields of a save or submission, as stored in the shared draft."""
    names = list(FIELDS) + [f"item_{n}{suffix}" for n in range(1, item_count + 1) for suffix in ITEM_FIELDS]
    draft: dict[str, Any] = {}
    for name in names:
        if name not in values:
            continue
        draft[name] = choices(values[name]) if name in MULTI_FIELDS else text(values[name], 2000)
    return draft


def field_label(record: InspectionRecord | RecordRow, name: str) -> str:
    if name.startswith("item_"):
        number, _, suffix = name[5:].partition("_")
        index = int(number) - 1
        item = record.items[index]["name"] if 0 <= index < len(record.items) else name
        extra = {"note": "说明", "deadline": "整改期限", "requirements": "整改要求"}.get(suffix, "")
        return f"{item}{extra}"
    return FIELD_LABELS.get(name, name)


def current_version(session: Session, record: InspectionRecord | RecordRow) -> RecordVersion | None:
    if not record.current_version_id:
        return None
    return session.get(RecordVersion, record.current_version_id)


def failed_items(
    record: InspectionRecord | RecordRow, content: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(item snapshot, answer) for every 不合格 answer."""
    by_id = {item["id"]: item for item in record.items}
    return [(by_id[a["item"]], a) for a in content.get("items", []) if a["result"] in FAILED]
