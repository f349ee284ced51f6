"""一公开: every finished (reviewed) record is published within 20 working days (BR-19).

``schedule`` runs in the reviewing transaction: a ``publication`` row with its due date and the
two reminders (5 working days left, overdue) as due items. ``publish`` marks a task's finished
records published with the time and channel. The result published is the record's result codes,
with A (发现问题待后续处理) becoming E (发现问题经责令已改正) once every order of the record was
corrected (domain.md §2.6, §4.6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context, UserError
from handlers.calendar.store import at_hour, calendar_for, local_day
from handlers.calendar.workdays import add_workdays
from storage.models import (
    RESULT_CODES,
    InspectionRecord,
    Publication,
    RecordVersion,
    Rectification,
)
from storage.models.tasks import Task

REMIND = "publication.remind"
OVERDUE = "publication.overdue"
CORRECTED = ("corrected", "on_spot")


def ref(publication_id: int) -> str:
    return f"publication:{publication_id}"


def _detail(row: Publication, **extra: object) -> dict[str, object]:
    return {
        "record_id": row.record_id,
        "task_id": row.task_id,
        "unit_id": row.unit_id,
        "due_date": row.due_date.isoformat(),
        **extra,
    }


def schedule(ctx: Context, record: InspectionRecord) -> Publication | None:
    """The record is finished: its publication is due 20 working days after today."""
    existing = ctx.session.execute(
        select(Publication).where(Publication.record_id == record.id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    task = ctx.session.get(Task, record.task_id)
    assert task is not None
    tz, settings = ctx.settings.timezone, ctx.settings
    produced = local_day(ctx.now, tz)
    calendar = calendar_for(ctx.session, produced, produced + timedelta(days=60))
    due = add_workdays(calendar, produced, settings.publication_workdays)
    row = Publication(
        record_id=record.id,
        task_id=record.task_id,
        object_id=record.object_id,
        unit_id=task.lead_unit_id,
        produced_at=ctx.now,
        due_date=due,
        state="pending",
        updated_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("publication.scheduled", "publication", row.id, detail=_detail(row))
    remind = add_workdays(calendar, due, -settings.publication_remind_workdays)
    if remind > produced:
        ctx.schedule(
            REMIND, ref(row.id), at_hour(remind, settings.reminder_hour, tz), key=f"pub:{row.id}:remind"
        )
    overdue = add_workdays(calendar, due, 1)
    ctx.schedule(
        OVERDUE, ref(row.id), at_hour(overdue, settings.reminder_hour, tz), key=f"pub:{row.id}:overdue"
    )
    return row


@dataclass(frozen=True)
class Result:
    codes: list[str]
    text: str


def result_of(session: Session, record_id: int) -> Result:
    """The record's public result: its codes, A turned into E when every order was corrected."""
    record = session.get(InspectionRecord, record_id)
    version = (
        session.get(RecordVersion, record.current_version_id)
        if record and record.current_version_id
        else None
    )
    codes = list((version.content if version else {}).get("codes", []))
    if "A" in codes:
        states = list(
            session.execute(
                select(Rectification.state, Rectification.closed_how).where(
                    Rectification.record_id == record_id, Rectification.state != "cancelled"
                )
            )
        )
        if states and all(state == "closed" and how in CORRECTED for state, how in states):
            codes = ["E" if code == "A" else code for code in codes]
    codes = list(dict.fromkeys(codes))
    return Result(codes, "；".join(RESULT_CODES.get(code, code) for code in codes))


def publish(ctx: Context, task: Task, channel: str = "") -> list[Publication]:
    """Mark every finished, unpublished record of the task published (time, channel, who)."""
    channel = (channel or ctx.settings.publication_channel).strip()[:40]
    rows = list(
        ctx.session.execute(
            select(Publication)
            .where(Publication.task_id == task.id, Publication.state == "pending")
            .order_by(Publication.id)
            .with_for_update()
        ).scalars()
    )
    if not rows:
        raise UserError(f"{task.number} 没有待公示的检查结果（结果须经牵头单位审核通过）。")
    for row in rows:
        result = result_of(ctx.session, row.record_id)
        row.state, row.published_at, row.channel, row.published_by = "published", ctx.now, channel, ctx.actor
        row.result_code, row.result_text, row.updated_at = ",".join(result.codes), result.text[:200], ctx.now
        ctx.audit(
            "publication.published",
            "publication",
            row.id,
            detail=_detail(
                row,
                channel=channel,
                result_code=row.result_code,
                late=local_day(ctx.now, ctx.settings.timezone) > row.due_date,
            ),
        )
        ctx.cancel_due(ref(row.id), REMIND, OVERDUE)
    return rows


def refresh_result(ctx: Context, rect: Rectification) -> None:
    """A rectification closed: a published result of its record follows (A -> E)."""
    row = ctx.session.execute(
        select(Publication).where(Publication.record_id == rect.record_id)
    ).scalar_one_or_none()
    if row is None or row.state != "published":
        return
    result = result_of(ctx.session, row.record_id)
    code = ",".join(result.codes)
    if code != row.result_code:
        before = row.result_code
        row.result_code, row.result_text, row.updated_at = code, result.text[:200], ctx.now
        ctx.audit(
            "publication.update",
            "publication",
            row.id,
            before={"result_code": before},
            after={"result_code": code},
            detail=_detail(row),
        )


def pending(session: Session, task_ids: Iterable[int]) -> int:
    ids = list(task_ids)
    rows = session.execute(
        select(Publication.id).where(Publication.task_id.in_(ids), Publication.state == "pending")
    ).all()
    return len(rows)


def local_date(ctx: Context) -> date:
    return local_day(ctx.now, ctx.settings.timezone)
