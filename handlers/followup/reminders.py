"""The ticker's side of a rectification: due soon, deadline (the 复查 card), re-check overdue.

Each kind is a batch handler (``router.on_due_batch``): a tick with ten thousand reminders due
locks the rows, moves their state, audits and queues the messages with a handful of statements
per batch instead of a dozen per row. Every message has a fixed outbox key derived from the
rectification and the reminder, so two tickers (or a retried batch) cannot send it twice, and a
due item whose rectification has moved on (closed, withdrawn) sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select, update

from bot.context import TickContext, Users
from handlers.calendar.store import local_day
from handlers.followup import people, service, views
from handlers.followup.states import STATE_LABELS
from storage.idlists import id_in, slices
from storage.models import Document, Finding, InspectionObject, Rectification


def _ids(items: Sequence[Any]) -> list[int]:
    return sorted({int(str(item.ref).split(":")[1]) for item in items})


_MOVED_COLUMNS = (
    "id", "unit_id", "task_id", "record_id", "deadline_day", "finding_id", "object_id", "order_doc_id",
)  # fmt: skip


class Moved(NamedTuple):
    """A rectification ``due_soon`` moved, with the names its message needs."""

    id: int
    unit_id: int | None
    task_id: int
    record_id: int
    deadline_day: date
    item_name: str
    name: str
    number: str


def _names(ctx: TickContext, key: Any, value: Any, ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in slices(ctx.session, sorted(ids)):
        found.update(ctx.session.execute(select(key, value).where(id_in(ctx.session, key, chunk))).all())
    return found


def due_soon(ctx: TickContext, items: Sequence[Any]) -> None:
    """N working days before the deadline: the state moves to due_soon and the team is told.

    The move is one ``UPDATE … RETURNING`` per earlier state (ordered, served): that locks,
    changes and reports each row in one pass, and which statement moved a row says what its state
    was before, which the audit records. A rectification that has moved on is left alone.
    """
    table = Rectification.__table__
    ids = _ids(items)
    moved: list[tuple[Any, str]] = []
    for state in ("ordered", "served"):
        for chunk in slices(ctx.session, ids):
            moved += [
                (row, state)
                for row in ctx.session.execute(
                    update(table)
                    .where(id_in(ctx.session, table.c.id, chunk), table.c.state == state)
                    .values(state="due_soon", updated_at=ctx.now)
                    .returning(*(table.c[name] for name in _MOVED_COLUMNS))
                )
            ]
    if not moved:
        return
    moved.sort(key=lambda pair: pair[0].id)
    # Names for the messages, each table by primary key: a join of ten thousand rectifications
    # with their findings makes PostgreSQL hash a scan of the whole finding table.
    item_names = _names(ctx, Finding.id, Finding.item_name, {r.finding_id for r, _ in moved})
    object_names = _names(ctx, InspectionObject.id, InspectionObject.name, {r.object_id for r, _ in moved})
    numbers = _names(ctx, Document.id, Document.number, {r.order_doc_id for r, _ in moved})
    before = {r.id: state for r, state in moved}
    moving = [
        Moved(r.id, r.unit_id, r.task_id, r.record_id, r.deadline_day, item_names.get(r.finding_id, ""),
              object_names.get(r.object_id, ""), numbers.get(r.order_doc_id, ""))
        for r, _ in moved
    ]  # fmt: skip
    ctx.audit_many(
        [
            (
                "rectification.due_soon",
                "rectification",
                r.id,
                {
                    "before": {"state": before[r.id]},
                    "after": {"state": "due_soon"},
                    "detail": {
                        "unit_id": r.unit_id,
                        "task_id": r.task_id,
                        "deadline": r.deadline_day.isoformat(),
                    },
                },
            )
            for r in moving
        ]
    )
    staff = people.team_staff(ctx.session, [r.record_id for r in moving], ctx.settings.corp_id)
    days = ctx.settings.rectify_remind_workdays
    ctx.send_texts(
        [
            (
                Users(tuple(staff[r.record_id])),
                f"【整改即将到期】「{r.name}」{r.item_name}的整改期限为 {r.deadline_day.isoformat()}"
                f"（还有{days}个工作日），通知书 {r.number}。期限届满后我会把复查卡片发给检查组，请及时复查。",
                f"rect:{r.id}:due_soon",
            )
            for r in moving
            if staff.get(r.record_id)
        ]
    )


def deadline(ctx: TickContext, items: Sequence[Any]) -> None:
    """The deadline has passed: awaiting re-inspection, and the 复查 card goes to the team."""
    for rect_id in _ids(items):
        rect = service.lock(ctx, rect_id)
        if rect.state not in ("ordered", "served", "due_soon"):
            continue
        service.move(ctx, rect, "deadline", deadline=rect.deadline_day.isoformat())
        day = local_day(ctx.now, ctx.settings.timezone)
        recheck = service.reinspection_of(ctx, rect.id) or service.open_reinspection(ctx, rect, day)
        f = service.facts(ctx, rect)
        note = "整改期限已到，请复查。"
        views.refresh(ctx, rect)
        views.send_recheck_cards(ctx, rect, note)
        staff = [m["staff_id"] for m in recheck.team if m.get("staff_id")]
        if staff:
            ctx.send_text(
                Users(tuple(staff)),
                f"【复查通知】{f.label}的整改期限（{rect.deadline_day.isoformat()}）已届满，通知书 {f.order.number}。"
                f"请在{ctx.settings.reinspection_sla_workdays}个工作日内由不少于2名执法人员复查，"
                "并在复查卡片上提交结果；复查时拍的照片请直接发到与我的单聊。",
                key=f"rect:{rect.id}:deadline",
            )


def overdue(ctx: TickContext, items: Sequence[Any]) -> None:
    """The re-check SLA passed without a re-check: our side is late. Team and unit head told."""
    payloads = {int(str(i.ref).split(":")[1]): i.payload or {} for i in items}
    for rect_id in _ids(items):
        rect = service.lock(ctx, rect_id)
        if rect.state != "awaiting_reinspection":
            continue
        sla_day = payloads.get(rect_id, {}).get("sla_day", "")
        service.move(ctx, rect, "sla_passed", sla_day=sla_day)
        f = service.facts(ctx, rect)
        recheck = service.reinspection_of(ctx, rect.id)
        team = [m["staff_id"] for m in (recheck.team if recheck else []) if m.get("staff_id")]
        if team:
            ctx.send_text(
                Users(tuple(team)),
                f"【复查逾期】{f.label}应于 {sla_day} 前复查，至今未提交复查结果（通知书 {f.order.number}）。"
                "请尽快复查并在卡片上提交结果。",
                key=f"rect:{rect.id}:overdue:team",
            )
        heads = people.heads_staff(ctx, rect.unit_id or 0)
        if heads:
            names = "、".join(m["name"] for m in (recheck.team if recheck else []))
            ctx.send_text(
                Users(tuple(heads)),
                f"【复查逾期】{service.unit_name(ctx, rect.unit_id)}：{f.label}的整改期限 {rect.deadline_day.isoformat()} "
                f"已过，复查时限 {sla_day} 已过仍未复查（复查组：{names or '—'}；通知书 {f.order.number}）。请督促办理。",
                key=f"rect:{rect.id}:overdue:head",
            )
        views.refresh(ctx, rect, note=f"复查已超过时限（{STATE_LABELS['overdue']}），请尽快复查。")


__all__ = ["deadline", "due_soon", "overdue"]
