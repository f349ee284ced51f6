"""Publication reminders (BR-19): 5 working days left, and overdue. Batch due handlers; each
message has a fixed key, so it is sent once whatever the number of tickers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot.context import TickContext, Users
from handlers.publication.service import _detail
from handlers.tasks import service as tasks
from storage.models import InspectionObject, Publication
from storage.models.tasks import Task


def _rows(ctx: TickContext, items: Sequence[Any]) -> list[tuple[Publication, str, str]]:
    ids = sorted({int(str(item.ref).split(":")[1]) for item in items})
    return list(
        ctx.session.execute(
            select(Publication, InspectionObject.name, Task.number)
            .join(InspectionObject, InspectionObject.id == Publication.object_id)
            .join(Task, Task.id == Publication.task_id)
            .where(Publication.id.in_(ids), Publication.state == "pending")
            .order_by(Publication.id)
        ).all()
    )


def _send(ctx: TickContext, items: Sequence[Any], kind: str) -> None:
    rows = _rows(ctx, items)
    units = sorted({row.unit_id for row, _, _ in rows})
    admins = {u: tasks.staff_of(ctx, tasks.unit_admins(ctx.session, [u])) for u in units}
    messages = []
    for row, name, number in rows:
        if kind == "remind":
            text = (
                f"【公示提醒】{number}「{name}」的检查结果应于 {row.due_date.isoformat()} 前公示"
                f"（还有{ctx.settings.publication_remind_workdays}个工作日）。公示后请发送「公示 {number}」登记。"
            )
        else:
            text = (
                f"【公示逾期】{number}「{name}」的检查结果应于 {row.due_date.isoformat()} 前公示，至今未公示"
                f"（企业信息公示暂行条例：20个工作日内）。请尽快公示并发送「公示 {number}」登记。"
            )
        if admins.get(row.unit_id):
            messages.append((Users(tuple(admins[row.unit_id])), text, f"pub:{row.id}:{kind}"))
    if kind == "overdue":
        ctx.audit_many(
            [("publication.overdue", "publication", r.id, {"detail": _detail(r)}) for r, _, _ in rows]
        )
    ctx.send_texts(messages)


def remind(ctx: TickContext, items: Sequence[Any]) -> None:
    _send(ctx, items, "remind")


def overdue(ctx: TickContext, items: Sequence[Any]) -> None:
    _send(ctx, items, "overdue")
