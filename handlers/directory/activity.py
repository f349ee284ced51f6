"""What the directory shows about inspections that happened, fed by the results capability's
records (storage/models/results.py).

The chat commands (主题, 查对象) ask these questions; keeping the answers here, with stable
signatures, means the directory code never reads result tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import RESULT_CODES, Finding, InspectionRecord, RecordVersion
from storage.models.tasks import Task, TaskUnit

DONE_STATES = ("reviewed", "closed")  # every record of the task reviewed by the lead unit


def joint_inspections_done(session: Session, theme_id: int) -> int:
    """Joint inspections of a theme (BR-30): tasks whose records the lead unit has all reviewed
    (or closed later), with at least one co-unit taking part besides the lead unit."""
    co_units = (
        select(func.count())
        .select_from(TaskUnit)
        .where(TaskUnit.task_id == Task.id, TaskUnit.state == "agreed")
        .correlate(Task)
        .scalar_subquery()
    )
    return int(
        session.execute(
            select(func.count())
            .select_from(Task)
            .where(Task.theme_id == theme_id, Task.state.in_(DONE_STATES), co_units >= 1)
        ).scalar_one()
    )


@dataclass(frozen=True)
class InspectionSummary:
    day: date
    task_title: str
    result: str


def recent_inspections(
    session: Session, object_id: int, limit: int = 3, timezone: str = "Asia/Shanghai"
) -> list[InspectionSummary]:
    """The newest submitted inspections of an object, newest first."""
    rows = session.execute(
        select(InspectionRecord, RecordVersion, Task)
        .join(RecordVersion, RecordVersion.id == InspectionRecord.current_version_id)
        .join(Task, Task.id == InspectionRecord.task_id)
        .where(InspectionRecord.object_id == object_id)
        .order_by(RecordVersion.submitted_at.desc())
        .limit(limit)
    ).all()
    summaries = []
    for record, version, task in rows:
        found = session.execute(
            select(func.count())
            .select_from(Finding)
            .where(Finding.record_id == record.id, Finding.current.is_(True))
        ).scalar_one()
        codes = "、".join(
            f"{c} {RESULT_CODES[c]}" for c in version.content.get("codes", []) if c in RESULT_CODES
        )
        state = {"reviewed": "已审核", "returned": "已退回修改"}.get(record.state, "待审核")
        result = f"{'发现问题 ' + str(found) + ' 项' if found else '未发现问题'}（{codes or '—'}，{state}）"
        started = version.content.get("started_at", "")[:10]
        day = (
            date.fromisoformat(started)
            if started
            else version.submitted_at.astimezone(ZoneInfo(timezone)).date()
        )
        summaries.append(InspectionSummary(day, f"{task.number} {task.scenario.name}", result))
    return summaries
