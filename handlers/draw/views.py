"""What the draw card and the dispatch cards show, read from the database in a few queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from cards.draw import DispatchView, DrawRow, DrawView, TeamRow
from handlers.documents.service import issuer_name
from handlers.draw import codes
from handlers.draw.algorithm import ALGORITHM_VERSION
from handlers.draw.service import (
    LIVE,
    STRATUM_LABELS,
    active_assignments,
    members_of,
    records_of,
)
from storage.identity import staff_ids_of
from storage.models import (
    METHOD_LABELS,
    Assignment,
    AssignmentMember,
    DrawRecord,
    InspectionObject,
    Inspector,
    Person,
)
from storage.models.tasks import Task

MEMBER_LABELS = {
    "drawn": "待分发",
    "pending": "待确认",
    "accepted": "已接受",
    "declined": "无法参加",
    "withdrawn": "已撤回",
}


@dataclass
class Facts:
    """Everything the cards of one task need, loaded once per operation."""

    task: Task
    objects: dict[int, InspectionObject] = field(default_factory=dict)
    inspectors: dict[int, Inspector] = field(default_factory=dict)
    staff: dict[int, str] = field(default_factory=dict)  # person id -> chat staff id
    items_by_unit: dict[int, list[tuple[str, list[str]]]] = field(default_factory=dict)
    issuer: str = ""

    def name(self, inspector_id: int) -> str:
        inspector = self.inspectors.get(inspector_id)
        return inspector.person.name if inspector is not None else f"人员{inspector_id}"

    def staff_of(self, inspector_id: int) -> str | None:
        inspector = self.inspectors.get(inspector_id)
        return self.staff.get(inspector.person_id) if inspector is not None else None


def load_facts(
    session: Session,
    settings: Settings,
    task: Task,
    object_ids: Iterable[int],
    inspector_ids: Iterable[int],
) -> Facts:
    facts = Facts(task=task, issuer=issuer_name(session, task.lead_unit))
    ids = sorted(set(object_ids))
    if ids:
        facts.objects = {
            o.id: o
            for o in session.execute(select(InspectionObject).where(InspectionObject.id.in_(ids))).scalars()
        }
    people = sorted(set(inspector_ids))
    if people:
        facts.inspectors = {
            i.id: i for i in session.execute(select(Inspector).where(Inspector.id.in_(people))).scalars()
        }
        facts.staff = staff_ids_of(
            session, [i.person_id for i in facts.inspectors.values()], corp_id=settings.corp_id
        )
    for scenario_item in task.scenario.items:
        item = scenario_item.power_item
        points = list(item.check_points or [])
        if scenario_item.content and scenario_item.content not in points:
            points.append(scenario_item.content)
        facts.items_by_unit.setdefault(item.owner_unit_id, []).append((item.name, points))
    return facts


def window_text(task: Task) -> str:
    return f"{task.window_start.isoformat()} 至 {task.window_end.isoformat()}"


# -- dispatch card ------------------------------------------------------------------------------
def team_rows(facts: Facts, members: list[AssignmentMember]) -> list[TeamRow]:
    rows = []
    for member in members:
        if member.state not in LIVE:
            continue
        inspector = facts.inspectors.get(member.inspector_id)
        rows.append(
            TeamRow(
                name=facts.name(member.inspector_id),
                unit=inspector.unit.name if inspector is not None else "",
                cert=(inspector.cert_no or "") if inspector is not None else "",
                state=MEMBER_LABELS.get(member.state, member.state),
            )
        )
    return rows


def dispatch_view(
    facts: Facts,
    settings: Settings,
    assignment: Assignment,
    member: AssignmentMember,
    members: list[AssignmentMember],
    code: str,
    qr: str,
) -> DispatchView:
    task = facts.task
    obj = facts.objects[assignment.object_id]
    notice = (
        "事先通知（行政检查通知书将另行发送）"
        if task.prenotice == "send"
        else f"不事先通知（{task.prenotice_reason or ''}）"
    )
    return DispatchView(
        number=task.number,
        status="待确认",
        fields=[
            ("任务编号", task.number),
            ("检查对象", obj.name),
            ("地址", obj.address or "—"),
            ("检查时间", window_text(task)),
            ("计划检查日期", assignment.planned_day.isoformat()),
            ("检查方式", METHOD_LABELS.get(task.method, task.method)),
            ("牵头单位", task.lead_unit.name),
            ("事先通报", notice),
        ],
        items=facts.items_by_unit.get(member.unit_id, []),
        team=team_rows(facts, members),
        code=codes.display(code),
        qr=qr,
        note="请确认能否参加本次检查。检查时请出示执法证件，并出示行政行为码供检查对象扫码核验。",
        can_answer=True,
    )


# -- draw card ----------------------------------------------------------------------------------
def _person_name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    return person.name if person is not None else "系统"


def _local(settings: Settings, row: DrawRecord) -> str:
    return row.drawn_at.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def draw_view(session: Session, settings: Settings, task: Task) -> DrawView | None:
    records = records_of(session, task.id)
    base = next((r for r in reversed(records) if r.kind == "full"), None)
    if base is None:
        return None
    assignments = active_assignments(session, task.id)
    members = members_of(session, [a.id for a in assignments])
    facts = load_facts(
        session,
        settings,
        task,
        [a.object_id for a in assignments],
        [m.inspector_id for group in members.values() for m in group],
    )
    strata: dict[int, str] = {}
    for row in records:
        for slot in row.result.get("slots", []):
            strata[slot["object"]] = slot.get("stratum", "")
    dispatched = task.state not in ("approved",)
    rows = []
    for assignment in assignments:
        obj = facts.objects.get(assignment.object_id)
        names = []
        for member in members[assignment.id]:
            if member.state not in LIVE:
                continue
            suffix = f"（{MEMBER_LABELS[member.state]}）" if dispatched else ""
            names.append(facts.name(member.inspector_id) + suffix)
        rows.append(
            DrawRow(
                slot=assignment.slot,
                object=obj.name if obj is not None else str(assignment.object_id),
                risk=STRATUM_LABELS.get(strata.get(assignment.object_id, ""), "—"),
                day=assignment.planned_day.strftime("%m-%d"),
                team="、".join(names),
            )
        )
    allocation = " · ".join(
        f"{STRATUM_LABELS.get(k, k)} {v}" for k, v in base.result.get("allocation", {}).items()
    )
    fields = [
        ("抽取时间", _local(settings, base)),
        ("操作人", _person_name(session, base.operator_person_id)),
        ("算法", f"chayici-draw 第 {ALGORITHM_VERSION} 版（SHA-256 计数器模式）"),
        ("随机种子", base.seed),
        ("快照哈希", base.pool_hash),
        ("符合条件的对象", f"{base.pool_size} 家"),
        ("可参与抽检人员", f"{base.inspector_pool_size} 名"),
        ("分层抽取", allocation or "—"),
    ]
    current = [r for r in records if r.state == "current"]
    warnings = [
        w for r in current for w in r.warnings if any(a.object_id == w["object"] for a in assignments)
    ]
    notes = []
    if warnings:
        cap = settings.onsite_yearly_cap
        names = "、".join(
            sorted({facts.objects[w["object"]].name for w in warnings if w["object"] in facts.objects})
        )
        if task.overcap_reason:
            notes.append(f"⚠ {names} 今年已被实地检查 {cap} 次，牵头单位已说明理由：{task.overcap_reason}")
        else:
            notes.append(
                f"⚠ {names} 今年已被本机关实地检查 {cap} 次。分发前请填写继续检查的理由，或重新抽取该户。"
            )
    for row in records:
        if row.id <= base.id or row.kind == "full":
            continue
        if row.kind == "slot":
            notes.append(
                f"第 {row.slot} 户重新抽取：{row.reason}（种子 {row.seed}，快照哈希 {row.pool_hash[:16]}…）"
            )
        elif row.kind == "replacement":
            picked = row.result.get("inspector")
            notes.append(
                f"第 {row.slot} 户补抽 {facts.name(picked) if picked else ''}：{row.reason}（种子 {row.seed}）"
            )
    earlier = [r for r in records if r.kind == "full" and r.id < base.id]
    if earlier:
        notes.append(f"此前的 {len(earlier)} 次抽取已作废并留存。本次理由：{base.reason}")
    notes.append(
        f"任何人可凭种子和快照重算核对：发送「核验抽取 {task.number}」，或运行 chayici draw verify。"
    )
    status = {"approved": "待分发", "cancelled": "已撤销"}.get(task.state, "已分发")
    return DrawView(
        number=task.number,
        status=status,
        fields=fields,
        rows=rows,
        note="\n\n".join(notes),
        can_dispatch=task.state == "approved",
        needs_reason=bool(warnings) and not task.overcap_reason,
        can_redraw=task.state in ("approved", "dispatched"),
    )
