"""The task's side of results: the "submitted x/y" rows on the group's task card, and moving the
task through its state machine (handlers/tasks/states.py) as its records are started, submitted,
returned and reviewed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from bot.context import Context, UserError
from handlers.tasks import service as tasks
from handlers.tasks.states import IllegalTransition, next_state
from storage.models import Assignment, InspectionRecord
from storage.models.tasks import Task

SHOWN_IN = ("dispatched", "in_progress", "submitted", "reviewed", "closed")


def _counts(session: Any, task_id: int) -> tuple[int, Counter[str]]:
    rows = session.execute(
        select(Assignment.id, InspectionRecord.state)
        .outerjoin(InspectionRecord, InspectionRecord.assignment_id == Assignment.id)
        .where(Assignment.task_id == task_id, Assignment.state == "dispatched")
    ).all()
    return len(rows), Counter(state or "none" for _, state in rows)


def results_progress(task: Task) -> list[tuple[str, str]]:
    """("结果已提交", "1/4"), ("结果已审核", "0/4") once a record is open (a member accepted)."""
    session = object_session(task)
    if session is None or task.id is None or task.state not in SHOWN_IN:
        return []
    total, states = _counts(session, task.id)
    if not total or states["none"] == total:  # shown once the first team member has accepted
        return []
    submitted = states["submitted"] + states["reviewed"]
    return [("结果已提交", f"{submitted}/{total}"), ("结果已审核", f"{states['reviewed']}/{total}")]


def _move(ctx: Context, task: Task, event: str, **detail: Any) -> None:
    before = tasks.snapshot(task)
    try:
        task.state = next_state(task.state, event)
    except IllegalTransition as exc:
        raise UserError(str(exc)) from None
    task.updated_at = ctx.now
    ctx.audit(
        f"task.{event}", "task", task.id, before=before, after=tasks.snapshot(task), detail=detail or None
    )


def started(ctx: Context, task: Task, record: InspectionRecord) -> None:
    """First activity on any record: dispatched -> in_progress."""
    if record.started_at is None:
        record.started_at = ctx.now
    if task.state == "dispatched":
        _move(ctx, task, "start", record_id=record.id)


def after_submit(ctx: Context, task: Task) -> None:
    total, states = _counts(ctx.session, task.id)
    if (
        total
        and states["submitted"] + states["reviewed"] == total
        and task.state in ("dispatched", "in_progress")
    ):
        _move(ctx, task, "submit_results", records=total)


def after_return(ctx: Context, task: Task, record: InspectionRecord) -> None:
    if task.state == "submitted":
        _move(ctx, task, "reject_review", record_id=record.id, reason=record.return_reason)


def after_review(ctx: Context, task: Task) -> None:
    total, states = _counts(ctx.session, task.id)
    if total and states["reviewed"] == total and task.state == "submitted":
        _move(ctx, task, "review", records=total)
