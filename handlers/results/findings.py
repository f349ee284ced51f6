"""What a submitted version starts: per 不合格 item a ``Finding``, a numbered 责令改正通知书 and a
``Rectification`` in state ``ordered``; plus the version's 现场检查记录 and 行政检查登记表.

An edit keeps what it did not change: a finding whose facts, mode, deadline and requirements are
the same keeps its order (no new number). A changed or removed finding is superseded, its order
voided (the number stays used, BR-20) and its rectification cancelled; the record's two sheets are
re-issued for every version and the previous ones voided.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.context import Context
from handlers import documents
from handlers.results import hooks
from handlers.results.documents import (
    ORDER,
    REGISTRATION,
    SITE_RECORD,
    default_requirements,
    order_fields,
    registration_fields,
    site_record_fields,
)
from handlers.results.records import Loaded, failed_items, local
from storage.models import Document, Finding, RecordVersion, Rectification


def _signature(answer: dict[str, Any], requirements: str) -> tuple[str, str, str | None, str]:
    return (answer["note"], answer["result"], answer.get("deadline"), requirements)


def _deadline(ctx: Context, answer: dict[str, Any]) -> tuple[datetime, Any]:
    if answer["result"] == "fail_now" or not answer.get("deadline"):
        return ctx.now, local(ctx, ctx.now).date()
    day = datetime.fromisoformat(answer["deadline"]).date()
    end = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(ctx.settings.timezone))
    return end, day


def issue(ctx: Context, loaded: Loaded, version: RecordVersion, recorder: str) -> list[Document]:
    """Findings, orders and the two sheets for ``version`` (the record's current version),
    against what earlier versions issued. Returns every document issued."""
    record, content = loaded.record, version.content
    current = {
        f.power_item_id: f
        for f in ctx.session.execute(
            select(Finding).where(Finding.record_id == record.id, Finding.current.is_(True))
        ).scalars()
    }
    rectifications = {
        r.finding_id: r
        for r in ctx.session.execute(
            select(Rectification).where(Rectification.record_id == record.id)
        ).scalars()
    }
    send_to = tuple(loaded.accepted_staff)
    new: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    kept: list[Finding] = []
    for item, answer in failed_items(record, content):
        requirements = answer.get("requirements") or default_requirements(
            item, answer["result"] == "fail_now"
        )
        old = current.pop(item["id"], None)
        if old is not None:
            rect = rectifications.get(old.id)
            same = rect is not None and _signature(answer, requirements) == (
                old.facts,
                "fail_now" if rect.mode == "immediate" else "fail",
                None if rect.mode == "immediate" else rect.deadline_day.isoformat(),
                rect.requirements,
            )
            if same:
                kept.append(old)
                continue
            _withdraw(ctx, old, rect, f"检查记录修改为第{version.version}版")
        new.append((item, answer, requirements))
    for old in current.values():
        _withdraw(
            ctx,
            old,
            rectifications.get(old.id),
            f"检查记录修改为第{version.version}版，该事项不再认定为不合格",
        )

    requests = [
        documents.Request(
            kind=ORDER,
            issuer_unit=loaded.task.lead_unit,
            fields=order_fields(ctx, loaded, content, item, answer, requirements),
            task_id=loaded.task.id,
            assignment_id=loaded.assignment.id,
            object_id=loaded.obj.id,
            send_to=send_to,
            file_name=f"{'责令立即改正通知书' if answer['result'] == 'fail_now' else '责令限期改正通知书'}-{loaded.obj.name}-{item['name'][:20]}.pdf",
        )
        for item, answer, _ in new
    ]
    orders = documents.issue_many(ctx, requests) if requests else []
    for (item, answer, requirements), order in zip(new, orders, strict=True):
        _open_finding(ctx, loaded, version, item, answer, requirements, order)

    order_numbers = [d.number for d in orders]
    if kept:
        order_numbers = [
            *ctx.session.execute(
                select(Document.number)
                .join(Rectification, Rectification.order_doc_id == Document.id)
                .where(Rectification.finding_id.in_([f.id for f in kept]))
            ).scalars(),
            *order_numbers,
        ]
    for doc in _sheets_in_force(ctx, loaded.record.id):
        documents.void(ctx, doc, f"检查记录修改为第{version.version}版，重新制发")
    site = documents.issue(
        ctx,
        kind=SITE_RECORD,
        issuer_unit=loaded.task.lead_unit,
        fields=site_record_fields(ctx, loaded, content, version.version, order_numbers, recorder),
        task_id=loaded.task.id,
        assignment_id=loaded.assignment.id,
        object_id=loaded.obj.id,
        send_to=send_to,
        file_name=f"现场检查记录-{loaded.obj.name}-第{version.version}版.pdf",
    )
    register = documents.issue(
        ctx,
        kind=REGISTRATION,
        issuer_unit=loaded.task.lead_unit,
        fields=registration_fields(
            ctx, loaded, content, version.version, [site.number, *order_numbers], recorder
        ),
        task_id=loaded.task.id,
        assignment_id=loaded.assignment.id,
        object_id=loaded.obj.id,
        send_to=send_to,
        file_name=f"行政检查登记表-{loaded.obj.name}-第{version.version}版.pdf",
    )
    version.site_record_doc_id, version.registration_doc_id = site.id, register.id
    return [*orders, site, register]


def _sheets_in_force(ctx: Context, record_id: int) -> list[Document]:
    """The record's sheets not yet voided: those of the last version that was issued (a version
    replaced before its job ran has none, so "the previous version's" would miss them)."""
    ids = [
        doc_id
        for pair in ctx.session.execute(
            select(RecordVersion.site_record_doc_id, RecordVersion.registration_doc_id).where(
                RecordVersion.record_id == record_id
            )
        )
        for doc_id in pair
        if doc_id
    ]
    if not ids:
        return []
    return list(
        ctx.session.execute(
            select(Document).where(Document.id.in_(ids), Document.voided.is_(False)).order_by(Document.id)
        ).scalars()
    )


def _open_finding(
    ctx: Context,
    loaded: Loaded,
    version: RecordVersion,
    item: dict[str, Any],
    answer: dict[str, Any],
    requirements: str,
    order: Document,
) -> None:
    immediate = answer["result"] == "fail_now"
    finding = Finding(
        record_id=loaded.record.id,
        version_id=version.id,
        task_id=loaded.task.id,
        object_id=loaded.obj.id,
        power_item_id=item["id"],
        item_name=item["name"],
        facts=answer["note"],
        provision=item["provision"],
        order_basis=item["order_basis"],
        severity="general",
        in_jurisdiction=True,
        disposition="order_correction",
        current=True,
        created_at=ctx.now,
    )
    ctx.session.add(finding)
    ctx.session.flush()
    deadline, day = _deadline(ctx, answer)
    days = (day - local(ctx, ctx.now).date()).days
    rect = Rectification(
        finding_id=finding.id,
        record_id=loaded.record.id,
        task_id=loaded.task.id,
        object_id=loaded.obj.id,
        order_doc_id=order.id,
        mode="immediate" if immediate else "deadline",
        deadline=deadline,
        deadline_day=day,
        requirements=requirements,
        min_days=int(item["min_days"]),
        short_notice=not immediate and days < int(item["min_days"]),
        state="ordered",
        reminders_sent=[],
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(rect)
    ctx.session.flush()
    ctx.audit(
        "finding.create",
        "finding",
        finding.id,
        after={
            "record_id": loaded.record.id,
            "version": version.version,
            "item": item["name"],
            "facts": finding.facts,
        },
    )
    ctx.audit(
        "rectification.order",
        "rectification",
        rect.id,
        after={
            "state": "ordered",
            "mode": rect.mode,
            "deadline": day.isoformat(),
            "document": order.number,
            "short_notice": rect.short_notice,
        },
    )
    for hook in hooks.on_order_issued:
        hook(ctx, rect, finding, order)


def _withdraw(ctx: Context, finding: Finding, rect: Rectification | None, reason: str) -> None:
    finding.current = False
    finding.superseded_at = ctx.now
    ctx.audit("finding.supersede", "finding", finding.id, detail={"reason": reason})
    if rect is None or rect.state == "cancelled":
        return
    before = rect.state
    rect.state = "cancelled"
    rect.updated_at = ctx.now
    ctx.audit(
        "rectification.cancel",
        "rectification",
        rect.id,
        before={"state": before},
        after={"state": "cancelled"},
        detail={"reason": reason},
    )
    order = ctx.session.get(Document, rect.order_doc_id)
    if order is not None:
        documents.void(ctx, order, reason)
    for hook in hooks.on_order_withdrawn:
        hook(ctx, rect)
