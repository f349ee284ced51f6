"""执法全过程记录: the timeline of one inspection (one object of one task), read from the audit
chain, with the hashes of its documents and evidence. Used by ``chayici record``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import (
    Assignment,
    AssignmentMember,
    AuditEvent,
    Document,
    Evidence,
    Finding,
    InspectionObject,
    InspectionRecord,
    Person,
    PreNotice,
    Rectification,
)
from storage.models.tasks import Task

ACTIONS = {
    "task.create": "发起任务",
    "task.submit": "发起磋商",
    "task.answer": "协同单位答复",
    "task.confirm": "确认并报审批",
    "task.approve": "批准",
    "task.dispatch": "一键分发",
    "task.start": "任务开始检查",
    "task.submit_results": "任务结果全部提交",
    "task.reject_review": "任务结果被退回",
    "task.review": "任务结果全部审核",
    "draw.full": "抽取",
    "dispatch.accept": "接受派单",
    "dispatch.decline": "无法参加",
    "prenotice.served": "行政检查通知书送达",
    "record.open": "打开检查记录",
    "record.draft": "保存草稿",
    "record.submit": "提交结果",
    "record.version": "提交修改（新版本）",
    "record.conflict": "提交冲突（未保存）",
    "record.review": "审核通过",
    "record.return": "退回修改",
    "record.withdraw": "记录撤回",
    "evidence.receive": "收到证据材料",
    "evidence.store": "证据存证",
    "evidence.attach": "证据归入记录",
    "evidence.fetch_failed": "证据下载失败",
    "finding.create": "认定问题",
    "finding.supersede": "问题认定被修改",
    "rectification.order": "责令改正",
    "rectification.cancel": "责令改正撤回",
    "document.issue": "制发文书",
    "document.render": "文书生成",
    "document.void": "文书作废",
    "access.denied": "越权操作被拒绝",
}


@dataclass(frozen=True)
class Line:
    at: str
    actor: str
    action: str
    detail: str


def find(session: Session, task: Task, object_ref: str) -> InspectionObject | None:
    ref = object_ref.strip()
    query = (
        select(InspectionObject)
        .join(Assignment, Assignment.object_id == InspectionObject.id)
        .where(Assignment.task_id == task.id)
    )
    if ref.isdigit():
        hit = session.execute(query.where(InspectionObject.id == int(ref))).scalars().first()
        if hit is not None:
            return hit
    for condition in (
        InspectionObject.uscc == ref,
        InspectionObject.name == ref,
        InspectionObject.name.contains(ref),
    ):
        hit = session.execute(query.where(condition)).scalars().first()
        if hit is not None:
            return hit
    return None


def timeline(session: Session, task: Task, obj: InspectionObject, timezone: str) -> list[str]:
    assignments = list(
        session.execute(
            select(Assignment).where(Assignment.task_id == task.id, Assignment.object_id == obj.id)
        ).scalars()
    )
    ids = [a.id for a in assignments]
    members = list(
        session.execute(select(AssignmentMember.id).where(AssignmentMember.assignment_id.in_(ids))).scalars()
    )
    record_ids = list(
        session.execute(select(InspectionRecord.id).where(InspectionRecord.assignment_id.in_(ids))).scalars()
    )
    documents = list(
        session.execute(
            select(Document)
            .where(Document.task_id == task.id, Document.object_id == obj.id)
            .order_by(Document.id)
        ).scalars()
    )
    evidence = list(
        session.execute(
            select(Evidence).where(Evidence.record_id.in_(record_ids)).order_by(Evidence.id)
        ).scalars()
    )
    findings = list(session.execute(select(Finding.id).where(Finding.record_id.in_(record_ids))).scalars())
    rects = list(
        session.execute(select(Rectification.id).where(Rectification.record_id.in_(record_ids))).scalars()
    )
    notices = list(session.execute(select(PreNotice.id).where(PreNotice.assignment_id.in_(ids))).scalars())
    refs = {
        "task": [task.id],
        "assignment_member": members,
        "inspection_record": record_ids,
        "document": [d.id for d in documents],
        "evidence": [e.id for e in evidence],
        "finding": findings,
        "rectification": rects,
        "pre_notice": notices,
    }
    conditions = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_([str(i) for i in values])
        for kind, values in refs.items()
        if values
    ]
    events = list(
        session.execute(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id)).scalars()
    )
    names = {p.id: p.name for p in session.execute(select(Person)).scalars()}
    zone = ZoneInfo(timezone)
    lines = [f"执法全过程记录：{task.number} · {obj.name}（{obj.uscc or obj.legacy_reg_no or obj.id}）", ""]
    for event in events:
        body = json.loads(event.body)
        actor = names.get(event.actor_person_id or 0, event.actor)
        when = event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{when}  {actor:<8}  {ACTIONS.get(event.action, event.action)}  {_detail(event, body)}".rstrip()
        )
    lines += ["", "文书："]
    for doc in documents:
        mark = f"（作废：{doc.void_reason}）" if doc.voided else ""
        lines.append(f"  {doc.number}  {doc.kind}  SHA-256 {doc.sha256 or '（尚未生成）'}{mark}")
    lines += ["", "证据材料："]
    for row in evidence:
        taken = (row.taken_at or row.received_at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"  {row.kind:<9} {row.file_name or '—'}  {row.size or 0} 字节  {taken}  SHA-256 {row.sha256 or '（未存证）'}"
        )
    if not evidence:
        lines.append("  （无）")
    lines.append("")
    lines.append(f"共 {len(events)} 条审计事件；审计链完整性请运行 chayici audit verify。")
    return lines


def _detail(event: AuditEvent, body: dict) -> str:  # type: ignore[type-arg]
    after, detail = body.get("after") or {}, body.get("detail") or {}
    if event.action == "document.issue":
        return str(after.get("number", ""))
    if event.action == "document.render":
        return f"{after.get('number', '')} SHA-256 {after.get('sha256', '')}"
    if event.action in ("record.submit", "record.version"):
        return f"第{after.get('version')}版 提交编号 {detail.get('instance_id', '')} 内容哈希 {detail.get('content_hash', '')[:16]}…"
    if event.action == "evidence.store":
        return f"SHA-256 {after.get('sha256', '')}（{after.get('size', 0)} 字节）"
    if event.action == "rectification.order":
        return f"{after.get('document', '')} 期限 {after.get('deadline', '')}"
    if event.action == "record.return":
        return f"理由：{detail.get('reason', '')}"
    if event.action == "finding.create":
        return f"{after.get('item', '')}：{after.get('facts', '')}"
    return f"{event.entity_type}#{event.entity_id}"
