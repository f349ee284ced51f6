"""事先通报 (pre-notice, BR-13): per object, a 行政检查通知书 or the recorded exemption.

The object is not a chat user, so "serving" in this system means: the notice is numbered,
rendered to PDF by the worker, stored with its SHA-256 and sent to the team, who hand it over;
the service record (channel, time, who) is written when the PDF exists. A change of team voids
the notice (its number stays void) and issues a new one.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from handlers import documents
from handlers.draw.service import LIVE
from handlers.draw.views import Facts
from storage.models import METHOD_LABELS, Assignment, AssignmentMember, Document, PreNotice

KIND = "inspection_notice"
CHANNEL = "电子送达（系统生成，由检查人员送达）"


def _date_text(value: object) -> str:
    text = str(value)
    year, month, day = text.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


def fields(
    facts: Facts, assignment: Assignment, members: list[AssignmentMember], code: str, issued_on: str
) -> dict[str, object]:
    task = facts.task
    obj = facts.objects[assignment.object_id]
    items = [item.power_item for item in task.scenario.items]
    bases = list(dict.fromkeys(item.legal_basis for item in items if item.legal_basis))
    inspectors = []
    for member in members:
        if member.state not in LIVE:
            continue
        inspector = facts.inspectors[member.inspector_id]
        inspectors.append(
            {"name": inspector.person.name, "unit": inspector.unit.name, "cert": inspector.cert_no or ""}
        )
    return {
        "issuer_name": facts.issuer,
        "object_name": obj.name,
        "uscc": obj.uscc or obj.legacy_reg_no or "",
        "address": obj.address or "",
        "window": f"{_date_text(task.window_start)}至{_date_text(task.window_end)}",
        "planned_day": _date_text(assignment.planned_day),
        "method": METHOD_LABELS.get(task.method, task.method),
        "basis": "、".join(bases) or "有关法律、法规、规章",
        "items": [item.name for item in items],
        "inspectors": inspectors,
        "task_number": task.number,
        "code": code,
        "issued_date": _date_text(issued_on),
    }


def issue(
    ctx: Context, facts: Facts, slots: list[tuple[Assignment, list[AssignmentMember], str]], issued_on: str
) -> list[PreNotice]:
    """The pre-notice of each (assignment, team, code): a numbered notice sent to the team, or
    the recorded exemption. All notices of one event are numbered in one allocation."""
    task = facts.task
    notices = [
        PreNotice(
            task_id=task.id,
            object_id=assignment.object_id,
            assignment_id=assignment.id,
            mode=task.prenotice,
            state="exempt" if task.prenotice == "exempt" else "issued",
            exempt_reason=task.prenotice_reason if task.prenotice == "exempt" else None,
            issued_by_person_id=ctx.person.id if ctx.person else None,
            created_at=ctx.now,
        )
        for assignment, _, _ in slots
    ]
    if task.prenotice != "exempt":
        requests = []
        for assignment, members, code in slots:
            recipients = tuple(
                s for m in members if m.state in LIVE and (s := facts.staff_of(m.inspector_id))
            )
            requests.append(
                documents.Request(
                    kind=KIND,
                    issuer_unit=task.lead_unit,
                    fields=fields(facts, assignment, members, code, issued_on),
                    task_id=task.id,
                    assignment_id=assignment.id,
                    object_id=assignment.object_id,
                    send_to=recipients,
                    file_name=f"行政检查通知书-{facts.objects[assignment.object_id].name}.pdf",
                )
            )
        for notice, document in zip(notices, documents.issue_many(ctx, requests), strict=True):
            notice.document_id = document.id
    ctx.session.add_all(notices)
    ctx.session.flush()
    return notices


def current(ctx: Context, assignment_id: int) -> PreNotice | None:
    return (
        ctx.session.execute(
            select(PreNotice)
            .where(PreNotice.assignment_id == assignment_id, PreNotice.state != "voided")
            .order_by(PreNotice.id.desc())
        )
        .scalars()
        .first()
    )


def withdraw(ctx: Context, assignment_id: int, reason: str) -> None:
    """Void the assignment's notice (its number stays used, BR-20)."""
    notice = current(ctx, assignment_id)
    if notice is None or notice.mode == "exempt":
        return
    notice.state = "voided"
    if notice.document_id is not None:
        document = ctx.session.get(Document, notice.document_id)
        if document is not None:
            documents.void(ctx, document, reason)


def mark_served(ctx: Context, document: Document) -> None:
    """Render-job follow-up: the notice exists as a PDF and went to the team: record service."""
    notice = ctx.session.execute(
        select(PreNotice).where(PreNotice.document_id == document.id, PreNotice.state == "issued")
    ).scalar_one_or_none()
    if notice is None or document.voided:
        return
    notice.state = "served"
    notice.channel = CHANNEL
    notice.served_at = ctx.now
    notice.served_by = f"person:{notice.issued_by_person_id}" if notice.issued_by_person_id else "system"
    ctx.audit(
        "prenotice.served",
        "pre_notice",
        notice.id,
        after={"document": document.number, "channel": notice.channel, "served_by": notice.served_by},
    )
